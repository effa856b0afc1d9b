/* Protocol-level logging (the MCP `logging` capability): what the package's root exports of it. */
export { MCP_LOG_LEVELS, MCP_LEVEL_SEVERITY, type McpLogLevel } from './levels';
export {
  subscribeToServerLogs,
  McpLoggingNotSupportedError,
  McpInstrumentationNotActiveError,
  type McpLogMessage,
  type McpLogSink,
} from './subscribe';
