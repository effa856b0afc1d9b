/* `forwardOperationLogs`: a server sends each subscribed client a one-line `notifications/message` per finished request. */
import type { ConnectionState } from '../connection';
import { withoutTracing } from '../untraced';
import { isMcpLogLevel, levelRank, subscribedLevelOf, type McpLogLevel } from './levels';

interface ServerProtocolLike {
  _capabilities?: { logging?: unknown };
  notification?: (notification: object) => Promise<void>;
}

/** What is told of one finished request: no user content. */
export interface OperationLogSummary {
  method: string;
  tool: string | undefined;
  prompt: string | undefined;
  latencyMs: number;
  errorType: string | undefined;
}

/**
 * Sends a one-line summary of a finished operation to the client as `notifications/message`, when the
 * server declared `logging` and the client asked for logs at a level that lets it through (the request's
 * own `_meta` `logLevel`, 2026-07-28, else the session's `logging/setLevel`). The message itself is not traced.
 */
export function forwardOperationLog(protocol: object, conn: ConnectionState, summary: OperationLogSummary, requestLevel: unknown): void {
  // 2026-07-28: the level the request itself asked for in its `_meta`; else the session's `logging/setLevel`.
  const subscribed = isMcpLogLevel(requestLevel) ? requestLevel : subscribedLevelOf(conn);
  if (subscribed === undefined) return;
  const server = protocol as ServerProtocolLike;
  if (server._capabilities?.logging === undefined || typeof server.notification !== 'function') return;
  const level: McpLogLevel = summary.errorType === undefined ? 'info' : 'error';
  if (levelRank(level) < levelRank(subscribed)) return;
  const data: Record<string, unknown> = { method: summary.method };
  if (summary.tool !== undefined) data.tool = summary.tool;
  if (summary.prompt !== undefined) data.prompt = summary.prompt;
  data.latency_ms = Math.round(summary.latencyMs * 1000) / 1000;
  data.ok = summary.errorType === undefined;
  if (summary.errorType !== undefined) data.error_type = summary.errorType;
  const notification = server.notification;
  try {
    withoutTracing(() =>
      notification.call(server, { method: 'notifications/message', params: { level, logger: 'mcp.operations', data } }).catch(() => undefined),
    );
  } catch {
    // not connected any more: nothing to forward to
  }
}
