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
} from './protocol-logging';
export { summarizeMcpSpan, type McpSpanSummary, type ReadableSpanLike } from './span-summary';
export { addRequestObserver, type RequestObserver, type IncomingRequestInfo } from './request-observers';
export {
  JsonLogSpanProcessor,
  StdoutDestinationError,
  type JsonLogOptions,
  type JsonLogRotation,
  type JsonLogDestination,
} from './json-log';
export {
  AppendOnlyFileSink,
  AuditLockError,
  AuditSpanProcessor,
  DEFAULT_AUDITED_METHODS,
  DEFAULT_AUDIT_REJECT_ERROR_CODE,
  ENV_AUDIT_RECORD_ARGUMENTS,
  canonicalJson,
  verifyAuditTrail,
  type AppendOnlyFileSinkOptions,
  type AuditActor,
  type AuditArguments,
  type AuditChainReport,
  type AuditDurability,
  type AuditFailurePolicy,
  type AuditFileSystem,
  type AuditOperation,
  type AuditRecord,
  type AuditRecordType,
  type AuditSink,
  type AuditSpanProcessorOptions,
  type AuditVerifyProblem,
  type AuditVerifyResult,
  type VerifyAuditOptions,
} from './audit';
