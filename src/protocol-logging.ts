import { context, trace, type Context } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import type { ConnectionState } from './connection';
import { serializeContent } from './content';
import type { JsonRpcMessageLike } from './internal-types';
import { extractFromMeta } from './propagation';
import { ATTR_MCP_METHOD_NAME, ATTR_MCP_SERVER_NAME, ATTR_MCP_CLIENT_NAME, ATTR_MCP_SESSION_ID } from './semconv';
import type { Settings } from './settings';

/*
 * The MCP `logging` capability (`logging/setLevel`, `notifications/message`) bridged to OpenTelemetry
 * logs: each log message a server sends, and each one a client receives, becomes a log record with the
 * MCP level mapped to a severity, correlated with the trace of the request it belongs to.
 */

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

/** One MCP log message, as handed to a sink of {@link subscribeToServerLogs}. */
export interface McpLogMessage {
  level: McpLogLevel;
  logger: string | undefined;
  data: unknown;
  /** The server's name from `initialize`, when known. */
  serverName: string | undefined;
  /** Trace of the request the message relates to, when known. */
  traceId: string | undefined;
  spanId: string | undefined;
}

/** Receives server log messages. A sink that throws is reported through `diag`, never propagated. */
export type McpLogSink = ((message: McpLogMessage) => void) | { writeLogMessage(message: McpLogMessage): void };

/** The logger-like surface used to emit records (the instrumentation's `logger` of either API line). */
export interface LogEmitter {
  emit(record: {
    severityNumber?: number;
    severityText?: string;
    body?: unknown;
    attributes?: Record<string, string | number | boolean>;
    context?: Context;
  }): void;
}

const subscribers = new WeakMap<object, Set<McpLogSink>>();

/** Sinks subscribed to the logs received by `protocol`, if any. */
export function logSubscribersOf(protocol: object): Set<McpLogSink> | undefined {
  return subscribers.get(protocol);
}

function paramsOf(message: JsonRpcMessageLike): { level: unknown; logger: unknown; data: unknown } {
  const params = message.params;
  if (params === null || typeof params !== 'object') return { level: undefined, logger: undefined, data: undefined };
  const p = params as { level?: unknown; logger?: unknown; data?: unknown };
  return { level: p.level, logger: p.logger, data: p.data };
}

/**
 * The context a received log message belongs to: the client's in-flight request in the same trace
 * (the server logged while handling it), else the sender's context from `_meta`, else the active one.
 */
function receivedContext(conn: ConnectionState, message: JsonRpcMessageLike): Context {
  const remote = extractFromMeta(message.params);
  const traceId = remote !== undefined ? trace.getSpanContext(remote)?.traceId : undefined;
  if (traceId !== undefined) {
    for (const op of conn.outgoing.values()) {
      if (op.isRequest && op.span.spanContext().traceId === traceId) return op.ctx;
    }
    return remote!;
  }
  return context.active();
}

/**
 * Emits a log record for a `notifications/message` sent (`direction: 'outgoing'`, correlated with the
 * active context: the request being handled) or received (`'incoming'`), and hands received ones to
 * subscribed sinks.
 */
export function bridgeLogMessage(
  emitter: LogEmitter | undefined,
  settings: Settings,
  conn: ConnectionState,
  protocol: object,
  message: JsonRpcMessageLike,
  direction: 'incoming' | 'outgoing',
  onSinkError: (error: unknown) => void,
): void {
  const { level, logger, data } = paramsOf(message);
  if (!isMcpLogLevel(level)) return;
  const ctx = direction === 'incoming' ? receivedContext(conn, message) : context.active();
  const loggerName = typeof logger === 'string' ? logger : undefined;
  if (emitter !== undefined && settings.bridgeProtocolLogs) {
    const attributes: Record<string, string> = {
      [ATTR_MCP_METHOD_NAME]: 'notifications/message',
      [ATTR_MCP_LOGGING_LEVEL]: level,
    };
    if (loggerName !== undefined) attributes[ATTR_MCP_LOGGING_LOGGER] = loggerName;
    if (conn.peerName !== undefined) {
      attributes[conn.role === 'client' ? ATTR_MCP_SERVER_NAME : ATTR_MCP_CLIENT_NAME] = conn.peerName;
    }
    const sessionId = conn.transport?.sessionId;
    if (typeof sessionId === 'string' && sessionId !== '') attributes[ATTR_MCP_SESSION_ID] = sessionId;
    emitter.emit({
      severityNumber: MCP_LEVEL_SEVERITY[level],
      severityText: level.toUpperCase(),
      // The message's data is user content: recorded only when capture is on, redacted and capped.
      body: settings.captureContent ? serializeContent(data, settings.maxContentLength, settings.redact) : undefined,
      attributes,
      context: ctx,
    });
  }
  if (direction === 'incoming') {
    const sinks = subscribers.get(protocol);
    if (sinks === undefined || sinks.size === 0) return;
    const spanContext = trace.getSpanContext(ctx);
    const delivered: McpLogMessage = {
      level,
      logger: loggerName,
      data,
      serverName: conn.role === 'client' ? conn.peerName : undefined,
      traceId: spanContext?.traceId,
      spanId: spanContext?.spanId,
    };
    for (const sink of sinks) {
      try {
        if (typeof sink === 'function') sink(delivered);
        else sink.writeLogMessage(delivered);
      } catch (error) {
        onSinkError(error);
      }
    }
  }
}

/** The server did not declare the `logging` capability, so it cannot be subscribed to. */
export class McpLoggingNotSupportedError extends Error {
  override readonly name = 'McpLoggingNotSupportedError';
  constructor(readonly serverName: string | undefined) {
    super(`MCP server ${serverName !== undefined ? `'${serverName}' ` : ''}does not advertise the logging capability`);
  }
}

/** Logs cannot be delivered: no `McpInstrumentation` is enabled for this client's SDK. */
export class McpInstrumentationNotActiveError extends Error {
  override readonly name = 'McpInstrumentationNotActiveError';
  constructor() {
    super('subscribeToServerLogs needs an enabled McpInstrumentation that patched this client\'s MCP SDK');
  }
}

interface ClientLike {
  getServerCapabilities?: () => { logging?: unknown } | undefined;
  getServerVersion?: () => { name?: string } | undefined;
  setLoggingLevel?: (level: McpLogLevel) => Promise<unknown>;
}

function instrumented(client: object): boolean {
  // The patch is on `Protocol.prototype`; a subclass may override `_onnotification` and call `super`
  // (v2's `Client` does), so any wrapped one in the chain counts.
  let proto: unknown = Object.getPrototypeOf(client);
  while (proto !== null && typeof proto === 'object') {
    if (Object.prototype.hasOwnProperty.call(proto, '_onnotification') && isWrapped((proto as { _onnotification?: unknown })._onnotification)) {
      return true;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/**
 * Subscribes to a connected server's log messages: checks that the server advertised `logging`,
 * sends `logging/setLevel`, and hands every `notifications/message` it then receives to `sink` — a
 * function, or an object with `writeLogMessage` (such as the JSON-line log). The application's own
 * `notifications/message` handler, if any, keeps working. Returns a function that unsubscribes.
 *
 * @throws McpLoggingNotSupportedError when the server has no logging capability.
 * @throws McpInstrumentationNotActiveError when no enabled McpInstrumentation patched the client's SDK.
 */
export async function subscribeToServerLogs(
  client: object,
  options: { level?: McpLogLevel; sink: McpLogSink },
): Promise<() => void> {
  const c = client as ClientLike;
  const level = options.level ?? 'info';
  if (!isMcpLogLevel(level)) throw new TypeError(`invalid MCP log level '${String(level)}'`);
  if (typeof options.sink !== 'function' && typeof options.sink?.writeLogMessage !== 'function') {
    throw new TypeError('sink must be a function or an object with writeLogMessage(message)');
  }
  if (typeof c.getServerCapabilities !== 'function' || typeof c.setLoggingLevel !== 'function') {
    throw new TypeError('subscribeToServerLogs needs a connected MCP Client');
  }
  if (c.getServerCapabilities()?.logging === undefined) {
    throw new McpLoggingNotSupportedError(c.getServerVersion?.()?.name);
  }
  if (!instrumented(client)) throw new McpInstrumentationNotActiveError();
  let sinks = subscribers.get(client);
  if (sinks === undefined) subscribers.set(client, (sinks = new Set()));
  sinks.add(options.sink);
  try {
    await c.setLoggingLevel(level);
  } catch (error) {
    sinks.delete(options.sink);
    throw error;
  }
  const registered = sinks;
  return () => {
    registered.delete(options.sink);
  };
}

let forwarding = false;

/** Whether an operation log is being forwarded right now (its notification is not traced). */
export function isForwardingOperationLog(): boolean {
  return forwarding;
}

interface ServerProtocolLike {
  _capabilities?: { logging?: unknown };
  notification?: (notification: object) => Promise<void>;
}

/**
 * Sends a one-line summary of a finished operation to the client as `notifications/message`, when the
 * server declared `logging` and the client subscribed (`logging/setLevel`) at a level that lets it
 * through. The message itself is not traced.
 */
export function forwardOperationLog(
  protocol: object,
  conn: ConnectionState,
  summary: { method: string; tool: string | undefined; prompt: string | undefined; latencyMs: number; errorType: string | undefined },
): void {
  const subscribed = conn.logLevel;
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
  forwarding = true;
  try {
    server
      .notification({ method: 'notifications/message', params: { level, logger: 'mcp.operations', data } })
      .catch(() => undefined);
  } catch {
    // not connected any more: nothing to forward to
  } finally {
    forwarding = false;
  }
}

