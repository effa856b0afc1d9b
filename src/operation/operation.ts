/*
 * One MCP request or notification, sent or received: its span, its measurement, and how it ends.
 * Ends exactly once, whichever of result, error, cancellation or connection close comes first.
 */
import { SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { addConnectionAttributes, CONN_PEER, CONN_SESSION, CONN_VERSION } from '../attributes';
import { learnAdvertised, learnFromInitialize, type ConnectionState, type InFlightOperation } from '../connection';
import { ATTR_RPC_RESPONSE_STATUS_CODE } from '../semconv';
import type { McpMessageDirection, McpResponseHookInfo } from '../types';
import { captureToolResult, firstText } from './content-capture';
import type { FinishedOperation, OperationHost } from './host';
import { metricAttributes, type MeasuredOperation } from './metric-attributes';
import {
  ERROR_TYPE_CANCELLED,
  ERROR_TYPE_CONNECTION_CLOSED,
  ERROR_TYPE_TIMEOUT,
  exceptionType,
  handlerErrorOutcome,
  isTimeout,
  isToolErrorResult,
  jsonRpcErrorOutcome,
  localFailureOutcome,
  OK,
  toolErrorOutcome,
  type Outcome,
} from './outcome';
import { runHook } from './hooks';
import { rememberInputRequired } from './raw-request';
import type { MessageTarget } from './target';
import type { OperationTemplate } from './templates';

/** What an operation is made of when it starts. */
export interface OperationInit {
  readonly host: OperationHost;
  readonly conn: ConnectionState;
  readonly direction: McpMessageDirection;
  readonly method: string;
  readonly target: MessageTarget;
  readonly params: unknown;
  readonly span: Span;
  readonly ctx: Context;
  readonly signal: AbortSignal | undefined;
  readonly isRequest: boolean;
  readonly requestId: string | number | undefined;
  /** False when the span is another instrumentation's (an enriched `execute_tool` span): not ended here. */
  readonly ownsSpan: boolean;
  /** The connection's template for this kind of operation. */
  readonly template: OperationTemplate;
}

export class McpOperation implements InFlightOperation, FinishedOperation, MeasuredOperation {
  readonly host: OperationHost;
  readonly conn: ConnectionState;
  readonly direction: McpMessageDirection;
  readonly method: string;
  readonly target: MessageTarget;
  readonly params: unknown;
  readonly span: Span;
  readonly ctx: Context;
  readonly signal: AbortSignal | undefined;
  readonly isRequest: boolean;
  readonly ownsSpan: boolean;
  readonly template: OperationTemplate;
  private readonly startedAt: number;
  requestId: string | number | undefined;
  ended = false;
  /** Set when the connection closed while the operation was in flight. */
  closed = false;
  /** The JSON-RPC error of the response, when the peer answered with one (outgoing requests). */
  wireError: { code: number; message: string | undefined } | undefined = undefined;
  /**
   * Whether only the signal tells that this received request was cancelled: SDKs before `_oncancel`
   * (before 1.24) abort it from a notification handler of their own, which the instrumentation does not see.
   */
  signalTellsCancel = false;
  /** Where the operation is tracked in its connection's in-flight map: its request id, else itself. */
  key: unknown = undefined;
  /** The HTTP version of the request that carried a received message, when known. */
  httpVersion: string | undefined = undefined;
  /**
   * Whether the tool or prompt named by a received call is one the server has (`undefined`: not a
   * server's call). Names a server does not have are peer-chosen: they are not put on metrics.
   */
  targetRegistered: boolean | undefined = undefined;
  /** A received notification no handler takes: its method was chosen by the peer (`_OTHER` on metrics). */
  unhandled = false;
  /** The `logLevel` a received 2026-07-28 request's `_meta` asked for, as sent. */
  requestLogLevel: unknown = undefined;

  constructor(init: OperationInit) {
    this.host = init.host;
    this.conn = init.conn;
    this.direction = init.direction;
    this.method = init.method;
    this.target = init.target;
    this.params = init.params;
    this.span = init.span;
    this.ctx = init.ctx;
    this.signal = init.signal;
    this.isRequest = init.isRequest;
    this.requestId = init.requestId;
    this.ownsSpan = init.ownsSpan;
    this.template = init.template;
    this.startedAt = performance.now();
  }

  markClosed(): void {
    this.closed = true;
  }

  /**
   * The request or notification completed at the JSON-RPC level with `result`. The signal is read
   * here only where nothing else tells of a cancellation (reading `aborted` of a fresh AbortSignal
   * costs about a microsecond on Node 20, on every call): an SDK with `_oncancel` aborts a handler's
   * signal only there and on close, and both end the operation first; a caller's signal that aborts a
   * request rejects it (`finishError`, which reads it).
   */
  finishResult(result: unknown): void {
    if (this.ended) return;
    if (this.signalTellsCancel && this.signal?.aborted === true) {
      this.finishAborted(undefined);
      return;
    }
    if (this.method === 'initialize') this.recordInitialize(result);
    else if (this.direction === 'incoming' && (this.method === 'tools/list' || this.method === 'prompts/list')) learnAdvertised(this.conn.protocol, this.method, result);
    const settings = this.host.settings;
    if (isToolErrorResult(this.method, result)) {
      const outcome = toolErrorOutcome();
      if (settings.captureContent) outcome.message = firstText(result, 256);
      this.end(outcome, result, undefined);
      return;
    }
    if (this.direction === 'incoming' && isInputRequired(result)) rememberInputRequired(result as object, this.span.spanContext());
    if (this.method === 'tools/call' && settings.captureContent && this.span.isRecording()) captureToolResult(settings, this.span, result);
    this.end(OK, result, undefined);
  }

  /** The operation failed with `error` (thrown by a handler, or a rejected outgoing request). */
  finishError(error: unknown): void {
    if (this.ended) return;
    if (this.signal?.aborted === true) {
      this.finishAborted(error);
      return;
    }
    let outcome: Outcome;
    if (this.direction === 'incoming') {
      outcome = this.isRequest ? handlerErrorOutcome(error, this.conn.protocol) : localFailureOutcome(exceptionType(error), error);
    } else if (this.wireError !== undefined) {
      outcome = jsonRpcErrorOutcome(this.wireError.code, this.wireError.message, false);
    } else if (this.closed) {
      outcome = localFailureOutcome(ERROR_TYPE_CONNECTION_CLOSED, error);
    } else if (isTimeout(error)) {
      outcome = localFailureOutcome(ERROR_TYPE_TIMEOUT, error);
    } else {
      outcome = localFailureOutcome(exceptionType(error), error);
    }
    this.end(outcome, undefined, error);
  }

  /** The request was cancelled (by the peer's `notifications/cancelled`, or the caller's AbortSignal). */
  finishCancelled(reason: unknown): void {
    if (this.ended) return;
    this.finishAborted(reason);
  }

  /** The connection closed before the operation ended. */
  finishClosed(): void {
    if (this.ended) return;
    this.closed = true;
    this.end(localFailureOutcome(ERROR_TYPE_CONNECTION_CLOSED, { message: 'Connection closed' }), undefined, undefined);
  }

  private finishAborted(reason: unknown): void {
    if (this.closed) {
      this.finishClosed();
      return;
    }
    // A caller's cancellation is its choice: it fails a CLIENT span, not the SERVER span.
    const outcome = localFailureOutcome(ERROR_TYPE_CANCELLED, reason ?? { message: 'cancelled' }, this.direction === 'outgoing');
    if (outcome.message === undefined || outcome.message === ERROR_TYPE_CANCELLED) {
      const text = this.signal?.reason;
      outcome.message = typeof text === 'string' ? text : 'cancelled';
    }
    this.end(outcome, undefined, reason);
  }

  /** `initialize` tells the negotiated version and the peer; its own span gets them (and the session). */
  private recordInitialize(result: unknown): void {
    if (result === null || typeof result !== 'object') return;
    learnFromInitialize(this.conn, this.params, result);
    if (!this.span.isRecording()) return;
    // A Streamable HTTP session starts with the initialize response.
    const attributes: Attributes = {};
    addConnectionAttributes(attributes, this.conn, CONN_VERSION | CONN_SESSION | CONN_PEER);
    this.span.setAttributes(attributes);
  }

  private end(outcome: Outcome, result: unknown, error: unknown): void {
    this.ended = true;
    const conn = this.conn;
    const map = this.direction === 'incoming' ? conn.incoming : conn.outgoing;
    if (map?.get(this.key) === this) map.delete(this.key);

    const span = this.span;
    try {
      if (outcome.errorType !== undefined && span.isRecording()) {
        span.setAttribute(ATTR_ERROR_TYPE, outcome.errorType);
        if (outcome.statusCode !== undefined) span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, String(outcome.statusCode));
        if (outcome.exception !== undefined) recordException(span, outcome.exception);
        if (outcome.markError) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
      }
      const hook = this.host.settings.responseHook;
      if (hook !== undefined) {
        const info: McpResponseHookInfo = {
          direction: this.direction,
          role: conn.role,
          method: this.method,
          requestId: this.requestId,
          params: this.params,
          result,
          error,
          errorType: outcome.errorType,
        };
        runHook(hook, span, info, 'responseHook');
      }
    } finally {
      if (this.ownsSpan) span.end();
    }
    const latencyMs = performance.now() - this.startedAt;
    this.recordDuration(outcome, latencyMs);
    const onEnd = this.host.onEnd;
    if (onEnd !== undefined) onEnd(this, outcome.errorType, latencyMs);
  }

  private recordDuration(outcome: Outcome, latencyMs: number): void {
    const histogram = this.direction === 'incoming' ? this.host.serverDuration : this.host.clientDuration;
    if (histogram === undefined) return;
    // The attributes of a successful operation are the same for every call of its kind: built once.
    const template = this.template;
    let attributes: Attributes | undefined;
    if (outcome === OK && this.targetRegistered !== false && !this.unhandled) {
      attributes = template.okMetric;
      if (attributes === undefined) {
        attributes = template.okMetric = metricAttributes(this, outcome);
        template.okMetricHttpVersion = this.httpVersion;
      } else if (template.okMetricHttpVersion !== this.httpVersion) {
        attributes = undefined;
      }
    }
    histogram.record(latencyMs / 1000, attributes ?? metricAttributes(this, outcome));
  }
}

/** A 2026-07-28 result asking the client for input before a retry: not an error. */
function isInputRequired(result: unknown): boolean {
  return result !== null && typeof result === 'object' && (result as { resultType?: unknown }).resultType === 'input_required';
}

function recordException(span: Span, exception: unknown): void {
  if (exception instanceof Error) span.recordException(exception);
  else span.recordException({ message: String(exception) });
}
