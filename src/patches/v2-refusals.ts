/*
 * v2's refusals before dispatch. v2's `Protocol._onrequest` answers some requests with a JSON-RPC error
 * before any handler runs: a request classified for another protocol era (-32022), a spec method the
 * negotiated era does not have (-32601), no handler (-32601), a missing or malformed per-request `_meta`
 * envelope (-32602). It sends that answer synchronously, through the transport's `send`. While
 * `_onrequest` runs, the transport's `send` (its class's prototype method, wrapped once) is watched for
 * an error response to that request id; one seen gets the SERVER span 1.x gives its own -32601.
 * Nothing is allocated for a request that is dispatched, and what is sent is never changed.
 */
import type { JsonRpcMessageLike, ProtocolLike } from '../internal-types';
import { ERROR_CODE_METHOD_NOT_FOUND } from '../operation/outcome';
import { startIncoming } from '../operation/start';
import { authInfoOf } from '../operation/user';
import type { AnyFn, PatchKit, Patchable } from './kit';

/** Marks the `send` wrappers this module made. */
const OURS = Symbol('opentelemetry-instrumentation-mcp.v2-send');
type Marked = { [OURS]?: true };

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

/** The v2 refusal watching of one `McpInstrumentation`, and what it takes to undo it. */
export class V2Refusals {
  /** Transport prototypes whose `send` is wrapped. */
  private readonly sendPrototypes = new Set<Patchable>();

  constructor(private readonly kit: PatchKit) {}

  /** Records a request the SDK refused before dispatch, with the error it answered. */
  private record(protocol: ProtocolLike, message: JsonRpcMessageLike, error: unknown, extra: unknown): void {
    try {
      const auth = this.kit.host.settings.recordUser ? authInfoOf(extra) : undefined;
      startIncoming(this.kit.host, protocol, message.method as string, message, true, undefined, auth).finishError(error);
    } catch (failure) {
      this.kit.diag.error('could not record a refused request', failure);
    }
  }

  /**
   * Runs a v2 `_onrequest` (`original` with `received, extra`) for `message`, recording a refusal the
   * SDK answers before dispatch. `unhandled`: no handler (nor fallback) is registered for the method.
   */
  dispatch(protocol: ProtocolLike, message: JsonRpcMessageLike, unhandled: boolean, original: AnyFn, received: unknown, extra: unknown): unknown {
    const transport = protocol._transport as object | undefined;
    let watchable = false;
    try {
      watchable = transport !== undefined && this.watchSend(transport);
    } catch (error) {
      this.kit.diag.error('could not watch a v2 transport', error);
    }
    if (!watchable) {
      // The answer cannot be seen: a request nobody handles is recorded as 1.x records it.
      if (unhandled) this.record(protocol, message, { code: ERROR_CODE_METHOD_NOT_FOUND, message: 'Method not found' }, extra);
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
      if (refused !== undefined) this.record(protocol, message, refused, extra);
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
        this.kit.wrap(owner, 'send', watchingSend);
        this.sendPrototypes.add(owner);
        return true;
      }
      proto = Object.getPrototypeOf(proto);
    }
    return false;
  }

  /** `disable()`: every `send` wrapper is removed (one under another's wrapper stays, inert). */
  unpatchAll(): void {
    for (const proto of this.sendPrototypes) {
      if ((proto.send as Marked | undefined)?.[OURS] === true) this.kit.unwrap(proto, 'send');
    }
    this.sendPrototypes.clear();
  }
}
