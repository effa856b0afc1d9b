/*
 * The sending side of `Protocol`: every request and notification sent gets a CLIENT-span operation and
 * carries its trace context in `params._meta`. v1 sends through `request` / `notification`; v2 through
 * `_requestWithSchemaViaCodec` / `_notificationViaCodec` (the message is their second argument).
 * Fixed parameters, no rest arrays: every message sent passes through here.
 */
import { context } from '@opentelemetry/api';
import type { JsonRpcMessageLike, ProtocolLike, RequestOptionsLike } from '../internal-types';
import type { McpOperation } from '../operation/operation';
import { callInOperation, finishErrorSafely, invoke2, invoke3, invoke4, settle } from '../operation/run';
import { startOutgoing } from '../operation/start';
import { withInjectedMeta } from '../propagation';
import { isUntraced } from '../untraced';
import type { AnyFn, PatchKit } from './kit';

/** `message` with the operation's trace context in its `_meta` (the message itself if that fails). */
function withInjectedMetaSafely(kit: PatchKit, message: JsonRpcMessageLike, op: McpOperation): JsonRpcMessageLike {
  try {
    return withInjectedMeta(message, op.ctx);
  } catch (error) {
    kit.diag.error('could not inject the trace context', error);
    return message;
  }
}

/** The CLIENT-span operation of a request about to be sent, or `undefined` if it could not start. */
function startRequest(kit: PatchKit, protocol: ProtocolLike, message: JsonRpcMessageLike, options: RequestOptionsLike | undefined): McpOperation | undefined {
  try {
    // The SDK numbers the request with `_requestMessageId++` and may deliver (in memory: synchronously)
    // the response before returning, so the id is taken before the call: it is the one used unless
    // the SDK rejects the request before sending (not connected, signal already aborted).
    const nextId = protocol._requestMessageId;
    const signal = options?.signal;
    const requestId = typeof nextId === 'number' && protocol._transport !== undefined && signal?.aborted !== true ? nextId : undefined;
    return startOutgoing(kit.host, protocol, message.method as string, message, true, signal, requestId);
  } catch (error) {
    kit.diag.error('could not start a request span', error);
    return undefined;
  }
}

/** v1's `request(message, schema, options)`. */
export function requestWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function request(this: ProtocolLike, message: unknown, schema: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      if (!kit.traces(msg?.method)) return original.apply(this, arguments as unknown as unknown[]);
      const opts = options as (RequestOptionsLike & { onprogress?: unknown }) | undefined;
      const op = startRequest(kit, this, msg!, opts);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      const injected = withInjectedMetaSafely(kit, msg!, op);
      let pending: unknown;
      try {
        pending =
          typeof opts?.onprogress === 'function' && injected !== msg
            ? sendKeepingTraceContext(kit, this, injected, () => context.with(op.ctx, invoke3, undefined, original, this, injected, schema, options))
            : context.with(op.ctx, invoke3, undefined, original, this, injected, schema, options);
      } catch (error) {
        finishErrorSafely(op, error);
        throw error;
      }
      return settle(op, pending);
    };
}

/** v2's `_requestWithSchemaViaCodec(codec, message, schema, options)`. */
export function codecRequestWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _requestWithSchemaViaCodec(this: ProtocolLike, codec: unknown, message: unknown, schema: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      if (!kit.traces(msg?.method)) return original.apply(this, arguments as unknown as unknown[]);
      const op = startRequest(kit, this, msg!, options as RequestOptionsLike | undefined);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      const injected = withInjectedMetaSafely(kit, msg!, op);
      let pending: unknown;
      try {
        pending = context.with(op.ctx, invoke4, undefined, original, this, codec, injected, schema, options);
      } catch (error) {
        finishErrorSafely(op, error);
        throw error;
      }
      return settle(op, pending);
    };
}

/** The CLIENT-span operation of a notification about to be sent, or `undefined`: send it as it is. */
function startNotification(kit: PatchKit, protocol: ProtocolLike, message: JsonRpcMessageLike | undefined): McpOperation | undefined {
  if (isUntraced(context.active())) return undefined;
  if (message?.method === 'notifications/message' && kit.active()) kit.bridgeLog(protocol, message, 'outgoing');
  if (!kit.traces(message?.method)) return undefined;
  try {
    return startOutgoing(kit.host, protocol, message!.method as string, message!, false, undefined);
  } catch (error) {
    kit.diag.error('could not start a notification span', error);
    return undefined;
  }
}

/** The notification with the operation's trace context, unless the SDK may debounce it. */
function notificationToSend(kit: PatchKit, protocol: ProtocolLike, message: JsonRpcMessageLike, op: McpOperation): JsonRpcMessageLike {
  // A parameterless notification may be debounced by the SDK; adding params would defeat that.
  try {
    const debounced = message.params === undefined && protocol._options?.debouncedNotificationMethods?.includes(message.method as string) === true;
    return debounced ? message : withInjectedMeta(message, op.ctx);
  } catch (error) {
    kit.diag.error('could not inject the trace context', error);
    return message;
  }
}

/** v1's `notification(message, options)`. */
export function notificationWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function notification(this: ProtocolLike, message: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      const op = startNotification(kit, this, msg);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return callInOperation(op, invoke2, original, this, notificationToSend(kit, this, msg!, op), options, undefined);
    };
}

/** v2's `_notificationViaCodec(codec, message, options)`. */
export function codecNotificationWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function _notificationViaCodec(this: ProtocolLike, codec: unknown, message: unknown, options: unknown): unknown {
      const msg = message as JsonRpcMessageLike | undefined;
      const op = startNotification(kit, this, msg);
      if (op === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return callInOperation(op, invoke3, original, this, codec, notificationToSend(kit, this, msg!, op), options);
    };
}

const TRACE_META_KEYS = ['traceparent', 'tracestate', 'baggage'] as const;

/**
 * SDKs 1.10–1.12 replace `params._meta` with `{ progressToken }` when a request has an `onprogress`
 * callback, dropping the trace context injected into it. For such a request, the transport's `send`
 * is intercepted for the duration of the (synchronous) call, and the trace keys are put back into the
 * outgoing message when they are missing; newer SDKs keep them and the message passes unchanged.
 */
function sendKeepingTraceContext(kit: PatchKit, protocol: ProtocolLike, injected: JsonRpcMessageLike, call: () => unknown): unknown {
  const transport = protocol._transport as { send?: unknown } | undefined;
  const send = transport?.send;
  const meta = (injected.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  if (transport === undefined || typeof send !== 'function' || meta === undefined) return call();
  const hadOwn = Object.prototype.hasOwnProperty.call(transport, 'send');
  const restore = (): void => {
    if (hadOwn) transport.send = send;
    else delete transport.send;
  };
  transport.send = function (this: unknown, message: unknown, ...rest: unknown[]): unknown {
    restore();
    let outgoing = message;
    try {
      const m = message as { params?: { _meta?: Record<string, unknown> } } | undefined;
      const outMeta = m?.params?._meta;
      if (outMeta !== undefined && outMeta.traceparent === undefined && (message as { method?: unknown }).method === injected.method) {
        const restored: Record<string, unknown> = { ...outMeta };
        for (const key of TRACE_META_KEYS) if (meta[key] !== undefined) restored[key] = meta[key];
        outgoing = { ...m, params: { ...m!.params, _meta: restored } };
      }
    } catch (error) {
      kit.diag.error('could not restore the trace context of a request with progress', error);
    }
    return (send as (...a: unknown[]) => unknown).call(this, outgoing, ...rest);
  };
  try {
    return call();
  } finally {
    if (transport.send !== send) restore();
  }
}
