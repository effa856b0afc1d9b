import {
  context,
  diag,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { connectionOf, httpPeerStorage, isRegisteredTarget, type ConnectionState } from './connection';
import { promptVariableValue, serializeContent } from './content';
import type { ProtocolLike } from './internal-types';
import {
  ERROR_CODE_INVALID_PARAMS,
  ERROR_CODE_METHOD_NOT_FOUND,
  ERROR_CODE_REQUEST_TIMEOUT,
  ERROR_TYPE_CANCELLED,
  ERROR_TYPE_CONNECTION_CLOSED,
  ERROR_TYPE_OTHER,
  ERROR_TYPE_TIMEOUT,
  exceptionType,
  handlerErrorOutcome,
  isToolErrorResult,
  jsonRpcErrorOutcome,
  localFailureOutcome,
  OK,
  spanNameOf,
  targetOf,
  toolErrorOutcome,
  type MessageTarget,
  type Outcome,
} from './message';
import { incomingParent } from './propagation';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_PROMPT_VARIABLE_PREFIX,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_PROTOCOL_VERSION,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_CLIENT_NAME,
  ATTR_MCP_CLIENT_VERSION,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SERVER_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_RPC_RESPONSE_STATUS_CODE,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from './semconv';
import { forwardOperationLog, isMcpLogLevel, type LogEmitter } from './protocol-logging';
import type { Settings } from './settings';
import { PACKAGE_NAME } from './version';
import type { McpMessageDirection, McpResponseHookInfo } from './types';

/** What operations need from the instrumentation that starts them. */
export interface OperationHost {
  readonly tracer: Tracer;
  readonly logger: LogEmitter | undefined;
  readonly settings: Settings;
  readonly serverDuration: Histogram | undefined;
  readonly clientDuration: Histogram | undefined;
}

interface MessageLike {
  jsonrpc?: unknown;
  id?: unknown;
  params?: unknown;
}

/**
 * One MCP request or notification, sent or received: its span, its measurement, and how it ends.
 * Ends exactly once, whichever of result, error, cancellation or connection close comes first.
 */
export class McpOperation {
  ended = false;
  /** Set when the connection closed while the operation was in flight. */
  closed = false;
  /** The JSON-RPC error of the response, when the peer answered with one (outgoing requests). */
  wireError: { code: number; message: string | undefined } | undefined = undefined;
  requestId: string | number | undefined;

  constructor(
    private readonly host: OperationHost,
    readonly conn: ConnectionState,
    readonly direction: McpMessageDirection,
    readonly method: string,
    readonly target: MessageTarget,
    readonly params: unknown,
    readonly span: Span,
    readonly ctx: Context,
    readonly signal: AbortSignal | undefined,
    private readonly startedAt: number,
    readonly isRequest: boolean,
    requestId: string | number | undefined,
  ) {
    this.requestId = requestId;
  }

  /** False when the span is another instrumentation's (an enriched `execute_tool` span): not ended here. */
  ownsSpan = true;
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
   * Whether the tool or prompt named by a received call is one the server has (`undefined`: unknown).
   * Names a server does not have are peer-chosen: they are not put on metrics, which stay bounded.
   */
  targetRegistered: boolean | undefined = undefined;
  /** The connection's template for this kind of operation, when it has one (see {@link templateOf}). */
  template: OperationTemplate | undefined = undefined;

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
    else if (this.method === 'logging/setLevel' && this.direction === 'incoming') {
      const level = (this.params as { level?: unknown } | undefined)?.level;
      if (isMcpLogLevel(level)) this.conn.logLevel = level;
    }
    if (isToolErrorResult(this.method, result)) {
      const outcome = toolErrorOutcome();
      if (this.host.settings.captureContent) outcome.message = firstText(result, 256);
      this.end(outcome, result, undefined);
      return;
    }
    if (this.method === 'tools/call' && this.host.settings.captureContent && this.span.isRecording()) {
      const { maxContentLength, redact } = this.host.settings;
      this.span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, serializeContent(result, maxContentLength, redact));
    }
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

  private recordInitialize(result: unknown): void {
    if (result === null || typeof result !== 'object') return;
    const conn = this.conn;
    const version = (result as { protocolVersion?: unknown }).protocolVersion;
    if (typeof version === 'string') conn.protocolVersion = version;
    conn.templates = undefined;
    const peer =
      conn.role === 'server'
        ? (this.params as { clientInfo?: unknown } | undefined)?.clientInfo
        : (result as { serverInfo?: unknown }).serverInfo;
    if (peer !== null && typeof peer === 'object') {
      const { name, version: peerVersion } = peer as { name?: unknown; version?: unknown };
      if (typeof name === 'string') conn.peerName = name;
      if (typeof peerVersion === 'string') conn.peerVersion = peerVersion;
    }
    const span = this.span;
    if (!span.isRecording()) return;
    if (conn.protocolVersion !== undefined) span.setAttribute(ATTR_MCP_PROTOCOL_VERSION, conn.protocolVersion);
    // A Streamable HTTP session starts with the initialize response.
    const sessionId = conn.transport?.sessionId;
    if (typeof sessionId === 'string' && sessionId !== '') span.setAttribute(ATTR_MCP_SESSION_ID, sessionId);
    setPeerAttributes(span, conn);
  }

  private end(outcome: Outcome, result: unknown, error: unknown): void {
    this.ended = true;
    const conn = this.conn;
    const map = this.direction === 'incoming' ? conn.incoming : conn.outgoing;
    if (map.get(this.key) === this) map.delete(this.key);

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
        runHook(() => hook(span, info), 'responseHook');
      }
    } finally {
      if (this.ownsSpan) span.end();
    }
    const latencyMs = performance.now() - this.startedAt;
    this.recordDuration(outcome, latencyMs);
    if (this.isRequest && this.direction === 'incoming' && conn.role === 'server' && this.host.settings.forwardOperationLogs) {
      const { toolName, promptName } = this.target;
      forwardOperationLog(conn.protocol, conn, { method: this.method, tool: toolName, prompt: promptName, latencyMs, errorType: outcome.errorType });
    }
  }

  private recordDuration(outcome: Outcome, latencyMs: number): void {
    const histogram = this.direction === 'incoming' ? this.host.serverDuration : this.host.clientDuration;
    if (histogram === undefined) return;
    // The attributes of a successful operation are the same for every call of its kind: built once.
    const template = this.template;
    let attributes: Attributes | undefined;
    if (outcome === OK && template !== undefined && this.targetRegistered !== false) {
      attributes = template.okMetric;
      if (attributes === undefined) {
        attributes = template.okMetric = this.metricAttributes(outcome);
        template.okMetricHttpVersion = this.httpVersion;
      } else if (template.okMetricHttpVersion !== this.httpVersion) {
        attributes = undefined;
      }
    }
    histogram.record(latencyMs / 1000, attributes ?? this.metricAttributes(outcome));
  }

  private metricAttributes(outcome: Outcome): Attributes {
    const conn = this.conn;
    // Unknown methods and unknown tool or prompt names are chosen by the peer: on metrics they become
    // `_OTHER`, so that no peer can grow the number of series.
    const methodNotFound = outcome.statusCode === ERROR_CODE_METHOD_NOT_FOUND;
    const attributes: Attributes = { [ATTR_MCP_METHOD_NAME]: methodNotFound ? ERROR_TYPE_OTHER : this.method };
    let { toolName, promptName } = this.target;
    const unknownTarget =
      this.targetRegistered === false || (this.targetRegistered === undefined && outcome.statusCode === ERROR_CODE_INVALID_PARAMS);
    if (unknownTarget) {
      if (toolName !== undefined) toolName = ERROR_TYPE_OTHER;
      if (promptName !== undefined) promptName = ERROR_TYPE_OTHER;
    }
    if (toolName !== undefined) {
      attributes[ATTR_GEN_AI_TOOL_NAME] = toolName;
      if (this.method === 'tools/call') attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
    }
    if (promptName !== undefined) attributes[ATTR_GEN_AI_PROMPT_NAME] = promptName;
    if (outcome.errorType !== undefined) attributes[ATTR_ERROR_TYPE] = outcome.errorType;
    if (outcome.statusCode !== undefined) attributes[ATTR_RPC_RESPONSE_STATUS_CODE] = String(outcome.statusCode);
    if (conn.protocolVersion !== undefined) attributes[ATTR_MCP_PROTOCOL_VERSION] = conn.protocolVersion;
    if (conn.networkTransport !== undefined) attributes[ATTR_NETWORK_TRANSPORT] = conn.networkTransport;
    if (conn.networkProtocolName !== undefined) attributes[ATTR_NETWORK_PROTOCOL_NAME] = conn.networkProtocolName;
    const httpVersion = this.httpVersion ?? conn.networkProtocolVersion;
    if (httpVersion !== undefined) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = httpVersion;
    if (this.direction === 'outgoing' && conn.serverAddress !== undefined) {
      attributes[ATTR_SERVER_ADDRESS] = conn.serverAddress;
      if (conn.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = conn.serverPort;
    }
    return attributes;
  }
}

/** A request timeout: v1's `McpError` -32001, v2's `SdkError` `REQUEST_TIMEOUT`. */
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === ERROR_CODE_REQUEST_TIMEOUT || code === 'REQUEST_TIMEOUT';
}

function setPeerAttributes(span: Span, conn: ConnectionState): void {
  if (conn.peerName === undefined) return;
  if (conn.role === 'server') {
    span.setAttribute(ATTR_MCP_CLIENT_NAME, conn.peerName);
    if (conn.peerVersion !== undefined) span.setAttribute(ATTR_MCP_CLIENT_VERSION, conn.peerVersion);
  } else if (conn.role === 'client') {
    span.setAttribute(ATTR_MCP_SERVER_NAME, conn.peerName);
    if (conn.peerVersion !== undefined) span.setAttribute(ATTR_MCP_SERVER_VERSION, conn.peerVersion);
  }
}

function recordException(span: Span, exception: unknown): void {
  if (exception instanceof Error) span.recordException(exception);
  else span.recordException({ message: String(exception) });
}

function firstText(result: unknown, max: number): string | undefined {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return undefined;
  for (const item of content) {
    const text = (item as { type?: unknown; text?: unknown } | null)?.text;
    if ((item as { type?: unknown } | null)?.type === 'text' && typeof text === 'string') {
      return text.length > max ? `${text.slice(0, max)}…` : text;
    }
  }
  return undefined;
}

export function runHook(fn: () => void, name: string): void {
  try {
    fn();
  } catch (error) {
    diag.error(`opentelemetry-instrumentation-mcp: ${name} threw`, error);
  }
}

/**
 * What every span of one kind of operation (direction, method, tool or prompt name) on one connection
 * starts with: its name and its attributes, which depend only on the method, its target and the
 * connection. Made once and reused: handed to `startSpan` as they are (the SDK copies attributes), so
 * a call builds no attribute object; the per-call ones (request id, resource, HTTP peer) are added to
 * the span itself. They are never modified once made.
 */
export interface OperationTemplate {
  /** The span name, unless it names a resource (then it is made per call). */
  readonly name: string;
  readonly attributes: Attributes;
  /** The metric attributes of a successful operation, made on first use (for that HTTP version). */
  okMetric: Attributes | undefined;
  okMetricHttpVersion: string | undefined;
}

/** Templates per connection, all kinds together; beyond this, operations are described afresh each time. */
const MAX_TEMPLATES = 256;

function templateOf(conn: ConnectionState, direction: McpMessageDirection, method: string, target: MessageTarget): OperationTemplate {
  const sessionId = conn.transport?.sessionId;
  let templates = conn.templates;
  if (templates === undefined || templates.sessionId !== sessionId) {
    templates = conn.templates = {
      sessionId,
      incoming: new Map(),
      outgoing: new Map(),
      incomingByName: new Map(),
      outgoingByName: new Map(),
      size: 0,
    };
  }
  const subject = target.toolName ?? target.promptName;
  let map: Map<string, unknown>;
  let key: string;
  if (subject === undefined) {
    map = direction === 'incoming' ? templates.incoming : templates.outgoing;
    key = method;
  } else {
    const byName = direction === 'incoming' ? templates.incomingByName : templates.outgoingByName;
    let names = byName.get(method);
    if (names === undefined) {
      names = new Map();
      byName.set(method, names);
    }
    map = names;
    key = subject;
  }
  let template = map.get(key) as OperationTemplate | undefined;
  if (template === undefined) {
    template = makeTemplate(conn, direction, method, target);
    if (templates.size < MAX_TEMPLATES) {
      map.set(key, template);
      templates.size++;
    }
  }
  return template;
}

function makeTemplate(conn: ConnectionState, direction: McpMessageDirection, method: string, target: MessageTarget): OperationTemplate {
  const attributes: Attributes = { [ATTR_MCP_METHOD_NAME]: method };
  if (target.toolName !== undefined) {
    attributes[ATTR_GEN_AI_TOOL_NAME] = target.toolName;
    if (method === 'tools/call') attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
  }
  if (target.promptName !== undefined) attributes[ATTR_GEN_AI_PROMPT_NAME] = target.promptName;
  if (conn.protocolVersion !== undefined) attributes[ATTR_MCP_PROTOCOL_VERSION] = conn.protocolVersion;
  const sessionId = conn.transport?.sessionId;
  if (typeof sessionId === 'string' && sessionId !== '') attributes[ATTR_MCP_SESSION_ID] = sessionId;
  if (conn.networkTransport !== undefined) attributes[ATTR_NETWORK_TRANSPORT] = conn.networkTransport;
  if (conn.networkProtocolName !== undefined) attributes[ATTR_NETWORK_PROTOCOL_NAME] = conn.networkProtocolName;
  if (conn.networkProtocolVersion !== undefined) attributes[ATTR_NETWORK_PROTOCOL_VERSION] = conn.networkProtocolVersion;
  if (conn.peerName !== undefined) {
    if (conn.role === 'server') {
      attributes[ATTR_MCP_CLIENT_NAME] = conn.peerName;
      if (conn.peerVersion !== undefined) attributes[ATTR_MCP_CLIENT_VERSION] = conn.peerVersion;
    } else if (conn.role === 'client') {
      attributes[ATTR_MCP_SERVER_NAME] = conn.peerName;
      if (conn.peerVersion !== undefined) attributes[ATTR_MCP_SERVER_VERSION] = conn.peerVersion;
    }
  }
  if (direction === 'outgoing' && conn.serverAddress !== undefined) {
    attributes[ATTR_SERVER_ADDRESS] = conn.serverAddress;
    if (conn.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = conn.serverPort;
  }
  return { name: spanNameOf(method, target, false), attributes, okMetric: undefined, okMetricHttpVersion: undefined };
}

function captureRequestContent(host: OperationHost, span: Span, method: string, params: unknown): void {
  const { maxContentLength, redact } = host.settings;
  if (params === null || typeof params !== 'object') return;
  const args = (params as { arguments?: unknown }).arguments;
  if (args === undefined) return;
  if (method === 'tools/call') {
    span.setAttribute(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, serializeContent(args, maxContentLength, redact));
  } else if (method === 'prompts/get' && args !== null && typeof args === 'object') {
    for (const name of Object.keys(args)) {
      const value = (args as Record<string, unknown>)[name];
      span.setAttribute(ATTR_GEN_AI_PROMPT_VARIABLE_PREFIX + name, promptVariableValue(name, value, maxContentLength, redact));
    }
  }
}

/**
 * Learns the negotiated version and peer after a reconnect that skipped `initialize`, or on a v2
 * server serving a modern-era request (version and client identity come with the request).
 */
function refreshFromProtocol(conn: ConnectionState, protocol: ProtocolLike): void {
  const before = conn.peerName;
  learnFromProtocol(conn, protocol);
  // What the templates are made of changed: they are made again.
  if (conn.protocolVersion !== undefined || conn.peerName !== before) conn.templates = undefined;
}

function learnFromProtocol(conn: ConnectionState, protocol: ProtocolLike): void {
  // v2 keeps the negotiated version on both sides (also when negotiated without initialize).
  const negotiated = (protocol as { _negotiatedProtocolVersion?: unknown })._negotiatedProtocolVersion;
  if (typeof negotiated === 'string') conn.protocolVersion = negotiated;
  if (conn.role === 'client') {
    const transportVersion = (conn.transport as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (conn.protocolVersion === undefined && typeof transportVersion === 'string') conn.protocolVersion = transportVersion;
  } else if (conn.role !== 'server') {
    return;
  }
  if (conn.peerName === undefined) {
    const info =
      conn.role === 'client' ? (protocol as { _serverVersion?: unknown })._serverVersion : (protocol as { _clientVersion?: unknown })._clientVersion;
    if (info !== null && typeof info === 'object') {
      const { name, version } = info as { name?: unknown; version?: unknown };
      if (typeof name === 'string') conn.peerName = name;
      if (typeof version === 'string') conn.peerVersion = version;
    }
  }
}

function startOperation(
  host: OperationHost,
  protocol: ProtocolLike,
  direction: McpMessageDirection,
  method: string,
  message: MessageLike,
  requestId: string | number | undefined,
  isRequest: boolean,
  signal: AbortSignal | undefined,
): McpOperation {
  const conn = connectionOf(protocol);
  if (conn.protocolVersion === undefined && method !== 'initialize') refreshFromProtocol(conn, protocol);
  const params = message.params;
  const target = targetOf(method, params);
  const template = templateOf(conn, direction, method, target);
  const settings = host.settings;
  const name = target.resourceUri !== undefined && settings.resourceUriInSpanName ? spanNameOf(method, target, true) : template.name;
  let attributes = template.attributes;
  let parent: Context;
  let span: Span;
  let httpVersion: string | undefined;
  if (direction === 'incoming') {
    const incoming = incomingParent(params);
    parent = incoming.parent;
    const peer = httpPeerStorage.getStore();
    if (peer !== undefined) {
      // Per request: a copy of the template with the HTTP peer.
      attributes = { ...attributes };
      if (peer.address !== undefined) {
        attributes[ATTR_CLIENT_ADDRESS] = peer.address;
        if (peer.port !== undefined) attributes[ATTR_CLIENT_PORT] = peer.port;
      }
      if (peer.protocolVersion !== undefined) {
        attributes[ATTR_NETWORK_PROTOCOL_VERSION] = peer.protocolVersion;
        httpVersion = peer.protocolVersion;
      }
    }
    span = host.tracer.startSpan(
      name,
      incoming.linked !== undefined
        ? { kind: SpanKind.SERVER, attributes, links: [{ context: incoming.linked }] }
        : { kind: SpanKind.SERVER, attributes },
      parent,
    );
  } else {
    parent = context.active();
    const outer = method === 'tools/call' && settings.enrichExecuteToolSpans ? outerExecuteToolSpan(parent, target.toolName) : undefined;
    if (outer !== undefined) {
      // Another GenAI instrumentation already traces this tool execution: add MCP's attributes to its
      // span instead of nesting a duplicate (the MCP conventions' advice); that span stays its owner's.
      outer.setAttributes(attributes);
      span = outer;
    } else {
      span = host.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    }
  }
  // What differs per call goes on the span itself (one attribute check instead of the three a start
  // attribute gets).
  if (span.isRecording()) {
    if (requestId !== undefined) span.setAttribute(ATTR_JSONRPC_REQUEST_ID, String(requestId));
    if (target.resourceUri !== undefined) span.setAttribute(ATTR_MCP_RESOURCE_URI, target.resourceUri);
    const jsonrpc = message.jsonrpc;
    if (jsonrpc !== undefined && jsonrpc !== '2.0') span.setAttribute(ATTR_JSONRPC_PROTOCOL_VERSION, String(jsonrpc));
  }
  const owned = span !== trace.getSpan(parent);
  const ctx = owned ? trace.setSpan(parent, span) : parent;
  const op = new McpOperation(host, conn, direction, method, target, params, span, ctx, signal, performance.now(), isRequest, requestId);
  op.ownsSpan = owned;
  op.template = template;
  if (direction === 'incoming') {
    op.httpVersion = httpVersion;
    const subject = target.toolName ?? target.promptName;
    if (subject !== undefined && conn.role === 'server') op.targetRegistered = isRegisteredTarget(protocol, method, subject);
    if (signal !== undefined && typeof (protocol as { _oncancel?: unknown })._oncancel !== 'function') op.signalTellsCancel = true;
  }
  if (settings.captureContent && span.isRecording()) {
    try {
      captureRequestContent(host, span, method, params);
    } catch (error) {
      diag.debug('opentelemetry-instrumentation-mcp: content capture failed', error);
    }
  }
  const hook = settings.requestHook;
  if (hook !== undefined) {
    runHook(() => hook(span, { direction, role: conn.role, method, requestId, params }), 'requestHook');
  }
  return op;
}

interface SpanWithData {
  attributes?: Attributes;
  instrumentationScope?: { name?: string };
  instrumentationLibrary?: { name?: string };
}

/**
 * The active span when it is another instrumentation's `execute_tool` span for the tool about to be
 * called (an SDK span exposes its attributes; an API-only span does not, and is never taken).
 */
function outerExecuteToolSpan(parent: Context, toolName: string | undefined): Span | undefined {
  const active = trace.getSpan(parent);
  if (active === undefined || !active.isRecording()) return undefined;
  const data = active as unknown as SpanWithData;
  const attributes = data.attributes;
  if (attributes === undefined || attributes[ATTR_GEN_AI_OPERATION_NAME] !== GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL) return undefined;
  if (attributes[ATTR_MCP_METHOD_NAME] !== undefined) return undefined; // one of ours
  const outerTool = attributes[ATTR_GEN_AI_TOOL_NAME];
  if (outerTool !== undefined && outerTool !== toolName) return undefined;
  const scope = data.instrumentationScope?.name ?? data.instrumentationLibrary?.name;
  return scope === PACKAGE_NAME ? undefined : active;
}

/** Starts the SERVER-span operation of a received request or notification. */
export function startIncoming(
  host: OperationHost,
  protocol: ProtocolLike,
  method: string,
  message: MessageLike,
  isRequest: boolean,
  signal: AbortSignal | undefined,
): McpOperation {
  const id = message.id;
  const requestId = isRequest && (typeof id === 'string' || typeof id === 'number') ? id : undefined;
  const op = startOperation(host, protocol, 'incoming', method, message, requestId, isRequest, signal);
  op.key = requestId ?? op;
  op.conn.incoming.set(op.key, op);
  return op;
}

/** Starts the CLIENT-span operation of a request or notification about to be sent. */
export function startOutgoing(
  host: OperationHost,
  protocol: ProtocolLike,
  method: string,
  message: MessageLike,
  isRequest: boolean,
  signal: AbortSignal | undefined,
  requestId?: number,
): McpOperation {
  const op = startOperation(host, protocol, 'outgoing', method, message, requestId, isRequest, signal);
  op.key = requestId ?? op;
  op.conn.outgoing.set(op.key, op);
  return op;
}
