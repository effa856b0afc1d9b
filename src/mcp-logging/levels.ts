/* The MCP log levels (RFC 5424), their OpenTelemetry severities, and the level each session subscribed to. */
import type { ConnectionState } from '../connection';

/** The MCP (RFC 5424) log levels, least severe first. */
export const MCP_LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type McpLogLevel = (typeof MCP_LOG_LEVELS)[number];

/**
 * OpenTelemetry `SeverityNumber` per MCP level: ordered and distinct, so severity filters and the
 * MCP level filter agree (notice is INFO2; critical and alert ERROR2/ERROR3; emergency FATAL).
 */
export const MCP_LEVEL_SEVERITY: Readonly<Record<McpLogLevel, number>> = Object.freeze({
  debug: 5,
  info: 9,
  notice: 10,
  warning: 13,
  error: 17,
  critical: 18,
  alert: 19,
  emergency: 21,
});

/** Attribute naming the MCP logger (`params.logger`) of a bridged log message. */
export const ATTR_MCP_LOGGING_LOGGER = 'mcp.logging.logger';
/** Attribute with the MCP level as sent, e.g. `warning`. */
export const ATTR_MCP_LOGGING_LEVEL = 'mcp.logging.level';

export function isMcpLogLevel(value: unknown): value is McpLogLevel {
  return typeof value === 'string' && (MCP_LEVEL_SEVERITY as Record<string, number>)[value] !== undefined;
}

export function levelRank(level: McpLogLevel): number {
  return MCP_LOG_LEVELS.indexOf(level);
}

/** The level each server-side connection's client subscribed to with `logging/setLevel`. */
const subscribedLevels = new WeakMap<ConnectionState, McpLogLevel>();

/** Remembers a `logging/setLevel` the server answered with success. */
export function noteSubscribedLevel(conn: ConnectionState, params: unknown): void {
  const level = (params as { level?: unknown } | undefined)?.level;
  if (isMcpLogLevel(level)) subscribedLevels.set(conn, level);
}

export function subscribedLevelOf(conn: ConnectionState): McpLogLevel | undefined {
  return subscribedLevels.get(conn);
}
