/* The package's root: the instrumentation, its configuration and hook types, and the helpers that go with it. The JSON-line log and the audit trail are subpath exports (`/json-log`, `/audit`), loaded only when asked for. */
export { McpInstrumentation, SUPPORTED_SDK_VERSIONS, SUPPORTED_V2_VERSIONS, type McpSdkClasses } from './instrumentation';
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
} from './mcp-logging';
export { summarizeMcpSpan, type McpSpanSummary, type ReadableSpanLike } from './span-summary';
export { addRequestObserver, type RequestObserver, type IncomingRequestInfo } from './request-observers';
