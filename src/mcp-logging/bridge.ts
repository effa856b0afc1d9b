/*
 * The MCP `logging` capability bridged to OpenTelemetry logs: each `notifications/message` a server
 * sends, and each one a client receives, becomes a log record with the MCP level mapped to a severity,
 * correlated with the trace of the request it belongs to; received ones also go to subscribed sinks.
 */
import { context, trace, type Attributes, type Context } from '@opentelemetry/api';
import { addConnectionAttributes, LOG_CONNECTION } from '../attributes';
import { inFlight, type ConnectionState } from '../connection';
import { capPeerString, serializeContent } from '../content';
import type { JsonRpcMessageLike } from '../internal-types';
import { extractFromMeta } from '../propagation';
import { ATTR_MCP_METHOD_NAME } from '../semconv';
import type { Settings } from '../settings';
import { ATTR_MCP_LOGGING_LEVEL, ATTR_MCP_LOGGING_LOGGER, isMcpLogLevel, MCP_LEVEL_SEVERITY } from './levels';
import { logSubscribersOf, type McpLogMessage } from './subscribe';

/** The logger-like surface used to emit records (the instrumentation's `logger` of either API line). */
export interface LogEmitter {
  emit(record: {
    severityNumber?: number;
    severityText?: string;
    body?: unknown;
    attributes?: Attributes;
    context?: Context;
  }): void;
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
    for (const op of inFlight(conn, 'outgoing')) {
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
  const loggerName = typeof logger === 'string' ? capPeerString(logger) : undefined;
  if (emitter !== undefined && settings.bridgeProtocolLogs) {
    const attributes: Attributes = {
      [ATTR_MCP_METHOD_NAME]: 'notifications/message',
      [ATTR_MCP_LOGGING_LEVEL]: level,
    };
    if (loggerName !== undefined) attributes[ATTR_MCP_LOGGING_LOGGER] = loggerName;
    addConnectionAttributes(attributes, conn, LOG_CONNECTION);
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
    const sinks = logSubscribersOf(protocol);
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
