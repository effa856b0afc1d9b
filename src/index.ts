export { McpInstrumentation, SUPPORTED_SDK_VERSIONS, type McpSdkClasses } from './instrumentation';
export type {
  McpInstrumentationConfig,
  McpMessageDirection,
  McpRequestHook,
  McpRequestHookInfo,
  McpResponseHook,
  McpResponseHookInfo,
  McpRole,
} from './types';
