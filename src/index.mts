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
} = cjs;
export type * from './index.js';
