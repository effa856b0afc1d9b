// The ESM entry re-exports the CommonJS build, so that one process never holds two copies of the classes.
import cjs from './index.js';

export const {
  McpInstrumentation,
  SUPPORTED_SDK_VERSIONS,
  SUPPORTED_V2_VERSIONS,
  McpRecordingSampler,
  subscribeToServerLogs,
  McpLoggingNotSupportedError,
  McpInstrumentationNotActiveError,
  MCP_LOG_LEVELS,
  MCP_LEVEL_SEVERITY,
  summarizeMcpSpan,
  addRequestObserver,
  JsonLogSpanProcessor,
  StdoutDestinationError,
  AppendOnlyFileSink,
  AuditLockError,
  AuditSpanProcessor,
  DEFAULT_AUDITED_METHODS,
  DEFAULT_AUDIT_REJECT_ERROR_CODE,
  ENV_AUDIT_RECORD_ARGUMENTS,
  canonicalJson,
  verifyAuditTrail,
} = cjs;
export type * from './index.js';
