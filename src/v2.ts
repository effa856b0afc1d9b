/*
 * What only the split v2 packages (`@modelcontextprotocol/server` / `client` 2.x) need beyond the
 * patches they share with 1.x:
 *
 * - Refusals before dispatch. v2's `Protocol._onrequest` answers some requests with a JSON-RPC error
 *   before any handler runs: a request classified for another protocol era (-32022), a spec method
 *   the negotiated era does not have (-32601), no handler (-32601), a missing or malformed
 *   per-request `_meta` envelope (-32602). It sends that answer synchronously, through the
 *   transport's `send`. While `_onrequest` runs, the transport's `send` (its class's prototype method,
 *   wrapped once) is watched for an error response to that request id; one seen gets the SERVER span
 *   1.x gives its own -32601. Nothing is allocated for a request that is dispatched, and what is sent
 *   is never changed.
 * - The protocol version of a stateless exchange (a fresh server per HTTP request, no `initialize`):
 *   the request's `MCP-Protocol-Version` header, when it names a version the server supports.
 * - The HTTP peer behind `@modelcontextprotocol/node`: `NodeStreamableHTTPServerTransport.handleRequest`
 *   (patched like 1.x's transports) and the handlers `toNodeHandler` makes.
 */
import { diag } from '@opentelemetry/api';
import { connectionOf, httpPeerOf, httpPeerStorage } from './connection';
import type { JsonRpcMessageLike, ProtocolLike } from './internal-types';
import { ERROR_CODE_METHOD_NOT_FOUND } from './message';
import { startIncoming, type OperationHost } from './operations';

type AnyFn = (...args: unknown[]) => unknown;
type Patchable = Record<string, unknown>;
export type WrapFn = (target: Patchable, name: string, wrapper: (original: AnyFn) => AnyFn) => void;
export type UnwrapFn = (target: Patchable, name: string) => void;

/** Marks the `send` wrappers and node handlers this module made. */
const OURS = Symbol('opentelemetry-instrumentation-mcp.v2');
type Marked = { [OURS]?: true };

/** The parts of a v2 `Protocol` read here. */
interface V2ProtocolLike extends ProtocolLike {
  _negotiatedProtocolVersion?: unknown;
  _supportedProtocolVersions?: unknown;
}

// The `_onrequest` call in progress: its transport, its request id, and the error response seen.
// Module state, saved and restored around each call, so that watching allocates nothing.
let watchedTransport: object | undefined;
let watchedId: unknown;
let refusal: unknown;

function noteRefusal(message: unknown): void {
  if (message === null || typeof message !== 'object') return;
  const { id, error } = message as { id?: unknown; error?: unknown };
  if (id === watchedId && error !== null && typeof error === 'object') refusal = error;
}

/** A transport class's `send`, watched while a v2 `_onrequest` runs; otherwise a plain call. */
function watchingSend(original: AnyFn): AnyFn {
  const send = function send(this: unknown): unknown {
    if (watchedTransport !== undefined && this === watchedTransport) {
      try {
        noteRefusal(arguments[0]);
      } catch {
        // a message that cannot be read is not a refusal
      }
    }
    return original.apply(this, arguments as unknown as unknown[]);
  };
  (send as Marked)[OURS] = true;
  return send;
}

/** A handler `toNodeHandler` returned, run with the peer of its Node request in `httpPeerStorage`. */
function nodeHandlerWithPeer(nodeHandler: AnyFn, active: () => boolean): AnyFn {
  // Three parameters, like the SDK's `(req, res, parsedBody)`: frameworks read a handler's arity.
  const handler = function (this: unknown, req: unknown, _res: unknown, _parsedBody: unknown): unknown {
    let peer;
    try {
      peer = active() ? httpPeerOf(req) : undefined;
    } catch {
      peer = undefined;
    }
    if (peer === undefined) return nodeHandler.apply(this, arguments as unknown as unknown[]);
    return httpPeerStorage.run(peer, Reflect.apply, nodeHandler, this, arguments);
  };
  (handler as Marked)[OURS] = true;
  return handler as AnyFn;
}

/** Records a request the SDK refused before dispatch, with the error it answered. */
function recordRefusal(host: OperationHost, protocol: ProtocolLike, message: JsonRpcMessageLike, error: unknown): void {
  try {
    startIncoming(host, protocol, message.method as string, message, true, undefined).finishError(error);
  } catch (failure) {
    diag.error('opentelemetry-instrumentation-mcp: could not record a refused request', failure);
  }
}

/** The v2-only patches of one `McpInstrumentation`, and what it takes to undo them. */
export class V2Support {
  /** Transport prototypes whose `send` is wrapped. */
  private readonly sendPrototypes = new Set<Patchable>();
  /** `@modelcontextprotocol/node` module exports whose `toNodeHandler` is wrapped. */
  private readonly nodeEntries = new Set<Patchable>();

  constructor(
    private readonly wrap: WrapFn,
    private readonly unwrap: UnwrapFn,
    private readonly active: () => boolean,
  ) {}

  /**
   * Runs a v2 `_onrequest` (`original` with `args`) for `message`, recording a refusal the SDK answers
   * before dispatch. `unhandled`: no handler (nor fallback) is registered for the method.
   */
  dispatchRequest(
    host: OperationHost,
    protocol: ProtocolLike,
    message: JsonRpcMessageLike,
    unhandled: boolean,
    original: AnyFn,
    received: unknown,
    extra: unknown,
  ): unknown {
    const transport = protocol._transport as object | undefined;
    let watchable = false;
    try {
      watchable = transport !== undefined && this.watchSend(transport);
    } catch (error) {
      diag.error('opentelemetry-instrumentation-mcp: could not watch a v2 transport', error);
    }
    if (!watchable) {
      // The answer cannot be seen: a request nobody handles is recorded as 1.x records it.
      if (unhandled) recordRefusal(host, protocol, message, { code: ERROR_CODE_METHOD_NOT_FOUND, message: 'Method not found' });
      return original.call(protocol, received, extra);
    }
    const outerTransport = watchedTransport;
    const outerId = watchedId;
    const outerRefusal = refusal;
    watchedTransport = transport;
    watchedId = message.id;
    refusal = undefined;
    let refused: unknown;
    try {
      return original.call(protocol, received, extra);
    } finally {
      refused = refusal;
      watchedTransport = outerTransport;
      watchedId = outerId;
      refusal = outerRefusal;
      if (refused !== undefined) recordRefusal(host, protocol, message, refused);
    }
  }

  /**
   * Makes sure the `send` of `transport` is watched: the prototype method it uses is wrapped once.
   * False when the transport has its own `send` (an instance property is the application's: left alone).
   */
  private watchSend(transport: object): boolean {
    const send = (transport as { send?: unknown }).send;
    if (typeof send !== 'function') return false;
    if ((send as Marked)[OURS] === true) return true;
    if (Object.prototype.hasOwnProperty.call(transport, 'send')) return false;
    let proto: unknown = Object.getPrototypeOf(transport);
    while (proto !== null && typeof proto === 'object' && proto !== Object.prototype) {
      if (Object.prototype.hasOwnProperty.call(proto, 'send')) {
        const owner = proto as Patchable;
        // Already wrapped by us, under another wrapper: still watched.
        if (this.sendPrototypes.has(owner)) return true;
        if (owner.send !== send) return false;
        this.wrap(owner, 'send', watchingSend);
        this.sendPrototypes.add(owner);
        return true;
      }
      proto = Object.getPrototypeOf(proto);
    }
    return false;
  }

  /** `@modelcontextprotocol/node`: the handlers `toNodeHandler` makes carry the HTTP peer. */
  patchNodeEntry(exports: Patchable): void {
    const toNodeHandler = exports.toNodeHandler;
    if (typeof toNodeHandler !== 'function' || (toNodeHandler as Marked)[OURS] === true) return;
    const active = this.active;
    this.wrap(exports, 'toNodeHandler', (original) => {
      const wrapped = function toNodeHandler(this: unknown): unknown {
        const nodeHandler = original.apply(this, arguments as unknown as unknown[]);
        return typeof nodeHandler === 'function' ? nodeHandlerWithPeer(nodeHandler as AnyFn, active) : nodeHandler;
      };
      (wrapped as Marked)[OURS] = true;
      return wrapped as AnyFn;
    });
    this.nodeEntries.add(exports);
  }

  unpatchNodeEntry(exports: Patchable): void {
    if (!this.nodeEntries.delete(exports)) return;
    if ((exports.toNodeHandler as Marked | undefined)?.[OURS] === true) this.unwrap(exports, 'toNodeHandler');
  }

  /** `disable()`: every wrapper this module installed is removed (one under another's wrapper stays, inert). */
  unpatchAll(): void {
    for (const proto of this.sendPrototypes) {
      if ((proto.send as Marked | undefined)?.[OURS] === true) this.unwrap(proto, 'send');
    }
    this.sendPrototypes.clear();
    for (const exports of [...this.nodeEntries]) this.unpatchNodeEntry(exports);
  }
}

/**
 * A message received by a v2 `Protocol` that has negotiated no version: in a stateless exchange the
 * version is the `MCP-Protocol-Version` header of the HTTP request, when the server supports it (so a
 * peer cannot put arbitrary values on metrics). Cheap when a version was negotiated: one property read.
 */
export function learnStatelessProtocolVersion(protocol: ProtocolLike, message: JsonRpcMessageLike, extra: unknown): void {
  const v2 = protocol as V2ProtocolLike;
  if (v2._negotiatedProtocolVersion !== undefined || message.method === 'initialize') return;
  try {
    const headers = (extra as { request?: { headers?: { get?: unknown } } } | undefined)?.request?.headers;
    if (typeof headers?.get !== 'function') return;
    const version: unknown = (headers as { get(name: string): unknown }).get('mcp-protocol-version');
    const supported = v2._supportedProtocolVersions;
    if (typeof version !== 'string' || !Array.isArray(supported) || !supported.includes(version)) return;
    const conn = connectionOf(protocol);
    if (conn.protocolVersion === undefined) {
      conn.protocolVersion = version;
      conn.templates = undefined;
    }
  } catch (error) {
    diag.debug('opentelemetry-instrumentation-mcp: could not read the protocol version of a v2 request', error);
  }
}
