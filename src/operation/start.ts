/* Starting an operation: its span (SERVER for received messages, CLIENT for sent ones), parented and attributed, tracked on its connection. */
import { context, SpanKind, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { ATTR_CLIENT_ADDRESS, ATTR_CLIENT_PORT, ATTR_NETWORK_PROTOCOL_VERSION } from '@opentelemetry/semantic-conventions';
import { sessionIdOf } from '../attributes';
import { connectionOf, httpPeerStorage, isKnownTarget, learnFromProtocol, type ConnectionState } from '../connection';
import type { ProtocolLike } from '../internal-types';
import { logger } from '../logger';
import { incomingParent } from '../propagation';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_PROTOCOL_VERSION,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SESSION_ID,
  ATTR_USER_ID,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from '../semconv';
import type { McpMessageDirection } from '../types';
import { PACKAGE_NAME } from '../version';
import { capPeerString, MAX_PEER_STRING_LENGTH } from '../content/cut';
import { captureRequestContent } from './content-capture';
import { takeRawRequestNote, type RawRequestNote } from './raw-request';
import type { OperationHost } from './host';
import { runHook } from './hooks';
import { McpOperation } from './operation';
import { spanNameOf, targetOf } from './target';
import { templateOf } from './templates';
import { userIdOf } from './user';

interface MessageLike {
  jsonrpc?: unknown;
  id?: unknown;
  params?: unknown;
}

/**
 * Whether the SDK's object can tell the connection's version and peer now: always, except during a
 * real `initialize` handshake (its own result tells them). An `initialize` a v2 server already bound to
 * an era receives is a removed method in that era: the envelope seeded the version and the client.
 */
function learnable(protocol: ProtocolLike, method: string): boolean {
  return method !== 'initialize' || (protocol as { _negotiatedProtocolVersion?: unknown })._negotiatedProtocolVersion !== undefined;
}

function startOperation(
  host: OperationHost,
  conn: ConnectionState,
  protocol: ProtocolLike | undefined,
  direction: McpMessageDirection,
  method: string,
  message: MessageLike,
  requestId: string | number | undefined,
  isRequest: boolean,
  signal: AbortSignal | undefined,
  authInfo: unknown,
): McpOperation {
  // A method name is the peer's choice too (one nobody handles is `_OTHER` on metrics, kept on the span).
  if (method.length > MAX_PEER_STRING_LENGTH) method = capPeerString(method);
  if (conn.protocolVersion === undefined && protocol !== undefined && learnable(protocol, method)) learnFromProtocol(conn, protocol);
  const params = message.params;
  const target = targetOf(method, params);
  const template = templateOf(conn, direction, method, target);
  const settings = host.settings;
  const name = target.resourceUri !== undefined && settings.resourceUriInSpanName ? spanNameOf(method, target, true) : template.name;
  let attributes = template.attributes;
  // The session id differs per connection, so it is not in the (shared) template.
  let sessionId = sessionIdOf(conn);
  let parent: Context;
  let span: Span;
  let httpVersion: string | undefined;
  let note: RawRequestNote | undefined;
  if (direction === 'incoming') {
    const incoming = incomingParent(params);
    parent = incoming.parent;
    const peer = httpPeerStorage.getStore();
    if (peer !== undefined) {
      peer.served = true;
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
      if (sessionId !== undefined) {
        attributes[ATTR_MCP_SESSION_ID] = sessionId;
        sessionId = undefined;
      }
    }
    // Links: the ambient span when it is not the parent; the first request of an `input_required` retry.
    note = isRequest ? takeRawRequestNote(protocol, requestId) : undefined;
    const retryOf = note?.retryOf;
    let links: Link[] | undefined;
    if (incoming.linked !== undefined) links = [{ context: incoming.linked }];
    if (retryOf !== undefined) (links ??= []).push({ context: retryOf });
    span = host.tracer.startSpan(name, links !== undefined ? { kind: SpanKind.SERVER, attributes, links } : { kind: SpanKind.SERVER, attributes }, parent);
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
    if (sessionId !== undefined) span.setAttribute(ATTR_MCP_SESSION_ID, sessionId);
    if (target.resourceUri !== undefined) span.setAttribute(ATTR_MCP_RESOURCE_URI, target.resourceUri);
    const jsonrpc = message.jsonrpc;
    if (jsonrpc !== undefined && jsonrpc !== '2.0') span.setAttribute(ATTR_JSONRPC_PROTOCOL_VERSION, String(jsonrpc));
    if (direction === 'incoming' && settings.recordUser) {
      const user = userIdOf(authInfo);
      if (user !== undefined) span.setAttribute(ATTR_USER_ID, user);
    }
  }
  const owned = span !== trace.getSpan(parent);
  const op = new McpOperation({
    host,
    conn,
    direction,
    method,
    target,
    params,
    span,
    ctx: owned ? trace.setSpan(parent, span) : parent,
    signal,
    isRequest,
    requestId,
    ownsSpan: owned,
    template,
  });
  if (direction === 'incoming') {
    op.httpVersion = httpVersion;
    const subject = target.toolName ?? target.promptName;
    if (subject !== undefined && conn.role === 'server') {
      op.targetRegistered = protocol !== undefined ? isKnownTarget(protocol, method, subject, settings.knownTargetNames) : settings.knownTargetNames.has(subject);
    }
    if (signal !== undefined && typeof (protocol as { _oncancel?: unknown } | undefined)?._oncancel !== 'function') op.signalTellsCancel = true;
    // 2026-07-28: the level of the operation logs a request wants travels in its own `_meta`.
    if (note !== undefined) op.requestLogLevel = note.logLevel;
  }
  if (settings.captureContent && span.isRecording()) {
    try {
      captureRequestContent(settings, span, method, params);
    } catch (error) {
      logger.debug('content capture failed', error);
    }
  }
  const hook = settings.requestHook;
  if (hook !== undefined) runHook(hook, span, { direction, role: conn.role, method, requestId, params }, 'requestHook');
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

/**
 * Starts the SERVER-span operation of a received request or notification. `protocol`: the receiving
 * Server or Client; a `ConnectionState` instead for a message served without one (a stateless HTTP
 * entry's own answers). `authInfo`: what the auth layer verified, for the opt-in `user.id`.
 */
export function startIncoming(
  host: OperationHost,
  protocol: ProtocolLike | ConnectionState,
  method: string,
  message: MessageLike,
  isRequest: boolean,
  signal: AbortSignal | undefined,
  authInfo?: unknown,
): McpOperation {
  const id = message.id;
  const requestId = isRequest && (typeof id === 'string' || typeof id === 'number') ? id : undefined;
  const detached = isDetached(protocol);
  const conn = detached ? protocol : connectionOf(protocol);
  const op = startOperation(host, conn, detached ? undefined : protocol, 'incoming', method, message, requestId, isRequest, signal, authInfo);
  op.key = requestId ?? op;
  (op.conn.incoming ??= new Map()).set(op.key, op);
  return op;
}

/** Starts the CLIENT-span operation of a request or notification about to be sent (on `protocol`, or a detached connection). */
export function startOutgoing(
  host: OperationHost,
  protocol: ProtocolLike | ConnectionState,
  method: string,
  message: MessageLike,
  isRequest: boolean,
  signal: AbortSignal | undefined,
  requestId?: number,
): McpOperation {
  const detached = isDetached(protocol);
  const conn = detached ? protocol : connectionOf(protocol);
  const op = startOperation(host, conn, detached ? undefined : protocol, 'outgoing', method, message, requestId, isRequest, signal, undefined);
  op.key = requestId ?? op;
  (op.conn.outgoing ??= new Map()).set(op.key, op);
  return op;
}

/** A `ConnectionState` (it has a template revision), not an SDK object. */
function isDetached(protocol: ProtocolLike | ConnectionState): protocol is ConnectionState {
  return typeof (protocol as { templateRevision?: unknown }).templateRevision === 'number';
}
