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
export { McpRecordingSampler } from './sampler';
export {
  subscribeToServerLogs,
  McpLoggingNotSupportedError,
  McpInstrumentationNotActiveError,
  MCP_LOG_LEVELS,
  MCP_LEVEL_SEVERITY,
  type McpLogLevel,
  type McpLogMessage,
  type McpLogSink,
} from './protocol-logging';
export { summarizeMcpSpan, type McpSpanSummary, type ReadableSpanLike } from './span-summary';
export { addRequestObserver, type RequestObserver, type IncomingRequestInfo } from './request-observers';
export {
  JsonLogSpanProcessor,
  StdoutDestinationError,
  type JsonLogOptions,
  type JsonLogRotation,
  type JsonLogDestination,
} from './log-bridge';
