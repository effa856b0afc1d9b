/* The summary of a finished MCP span: what the JSON-line log, the audit trail and `mcp-otel` read of it. */
import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_TRANSPORT,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_CLIENT_NAME,
  ATTR_MCP_CLIENT_VERSION,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SERVER_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  ATTR_USER_ID,
} from './semconv';
import { PACKAGE_NAME } from './version';

/**
 * The parts of a finished span that processors of this package read: structurally a subset of the
 * `ReadableSpan` of both OpenTelemetry SDK lines (2.x `sdk-trace-base`, 3.x `sdk-trace`), so that this
 * package depends on neither.
 */
export interface ReadableSpanLike {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  readonly status: { code: SpanStatusCode; message?: string };
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  spanContext(): SpanContext;
  /** The parent's span context (OpenTelemetry SDK 2.x and later; 1.x spans have only `parentSpanId`). */
  readonly parentSpanContext?: SpanContext;
  readonly instrumentationScope?: { name: string };
  readonly instrumentationLibrary?: { name: string };
}

/** One finished MCP operation, as the log bridge and the audit trail see it. */
export interface McpSpanSummary {
  /** `server` for a message this process received (SERVER span), `client` for one it sent. */
  side: 'server' | 'client';
  method: string;
  tool: string | undefined;
  prompt: string | undefined;
  resource: string | undefined;
  requestId: string | undefined;
  sessionId: string | undefined;
  /** Start of the operation, milliseconds since the epoch (fractional). */
  startMs: number;
  /** Duration from the span's own clock, in milliseconds (fractional). */
  latencyMs: number;
  ok: boolean;
  /** `error.type` when the operation failed. */
  errorType: string | undefined;
  /** The JSON-RPC error code, when the outcome was a JSON-RPC error response. */
  errorCode: number | undefined;
  /** The span status description (the JSON-RPC error message), when the operation failed. */
  errorMessage: string | undefined;
  traceId: string;
  spanId: string;
  transport: string | undefined;
  /** The peer's self-description from `initialize` (the client for a server, the server for a client). */
  peerName: string | undefined;
  peerVersion: string | undefined;
  /**
   * Server side: whether the operation continued a trace that arrived with the message (its parent is
   * a remote span context, which only the trace context in `_meta` gives an MCP SERVER span): `false`
   * when the request came without usable trace context (the span started a trace, or joined a local
   * one such as the HTTP server span). `undefined` on the client side, and where the span does not say
   * (OpenTelemetry SDK 1.x spans carry no parent span context).
   */
  continuedTrace: boolean | undefined;
  /** `user.id`: the authenticated subject, when `recordUser` is on (SERVER spans). */
  userId: string | undefined;
}

function str(attributes: Attributes, key: string): string | undefined {
  const value = attributes[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function hrToMs(time: HrTime): number {
  return time[0] * 1e3 + time[1] / 1e6;
}

/** Whether a SERVER span's parent came from the message (remote); `undefined` when the span cannot tell. */
function continuedTraceOf(span: ReadableSpanLike): boolean | undefined {
  if (!('parentSpanContext' in span)) return undefined;
  return span.parentSpanContext?.isRemote === true;
}

/** Whether `span` was made by this package. */
export function isMcpSpan(span: ReadableSpanLike): boolean {
  const scope = span.instrumentationScope?.name ?? span.instrumentationLibrary?.name;
  return scope === PACKAGE_NAME && typeof span.attributes[ATTR_MCP_METHOD_NAME] === 'string';
}

/** The summary of an MCP span, or `undefined` for any other span. */
export function summarizeMcpSpan(span: ReadableSpanLike): McpSpanSummary | undefined {
  if (!isMcpSpan(span)) return undefined;
  const a = span.attributes;
  const errorType = str(a, ATTR_ERROR_TYPE);
  const code = str(a, ATTR_RPC_RESPONSE_STATUS_CODE);
  const parsedCode = code !== undefined ? Number(code) : undefined;
  const side = span.kind === SpanKind.SERVER ? 'server' : 'client';
  const ctx = span.spanContext();
  return {
    side,
    method: a[ATTR_MCP_METHOD_NAME] as string,
    tool: str(a, ATTR_GEN_AI_TOOL_NAME),
    prompt: str(a, ATTR_GEN_AI_PROMPT_NAME),
    resource: str(a, ATTR_MCP_RESOURCE_URI),
    requestId: str(a, ATTR_JSONRPC_REQUEST_ID),
    sessionId: str(a, ATTR_MCP_SESSION_ID),
    startMs: hrToMs(span.startTime),
    latencyMs: hrToMs(span.duration),
    ok: errorType === undefined,
    errorType,
    errorCode: parsedCode !== undefined && Number.isFinite(parsedCode) ? parsedCode : undefined,
    errorMessage: errorType !== undefined ? span.status.message : undefined,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    transport: str(a, ATTR_NETWORK_TRANSPORT),
    peerName: str(a, ATTR_MCP_CLIENT_NAME) ?? str(a, ATTR_MCP_SERVER_NAME),
    peerVersion: str(a, ATTR_MCP_CLIENT_VERSION) ?? str(a, ATTR_MCP_SERVER_VERSION),
    continuedTrace: side === 'server' ? continuedTraceOf(span) : undefined,
    userId: str(a, ATTR_USER_ID),
  };
}
