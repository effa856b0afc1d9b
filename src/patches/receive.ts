/*
 * The receiving side of `Protocol` (`_onrequest`, `_onnotification`): the handler about to run is wrapped
 * (handlers live in the SDK's own maps; each is wrapped once, on first use, whatever registered it) so
 * that it runs inside a SERVER-span operation. A message nobody handles gets its span here.
 */
import { learnStatelessProtocolVersion } from '../connection';
import type { HandlerFn, JsonRpcMessageLike, ProtocolLike } from '../internal-types';
import type { McpOperation } from '../operation/operation';
import { ERROR_CODE_METHOD_NOT_FOUND } from '../operation/outcome';
import { noteRawRequest } from '../operation/raw-request';
import { runHandler } from '../operation/run';
import { startIncoming } from '../operation/start';
import { authInfoOf } from '../operation/user';
import type { AnyFn, PatchKit } from './kit';
import type { V2Refusals } from './v2-refusals';

/** Marks a handler function this package wrapped (so it is wrapped once). */
const WRAPPED_HANDLER = Symbol('opentelemetry-instrumentation-mcp.wrapped-handler');
type Wrapped<T> = T & { [WRAPPED_HANDLER]?: true };

/** `handler` run inside the operation of each message it handles. */
function wrapHandler(kit: PatchKit, protocol: ProtocolLike, handler: HandlerFn, isRequest: boolean): HandlerFn {
  const wrapped: Wrapped<HandlerFn> = function (this: unknown, message: unknown, extra?: unknown): unknown {
    const method = (message as JsonRpcMessageLike | undefined)?.method;
    if (!kit.traces(method)) return handler.call(this, message, extra);
    let op: McpOperation;
    try {
      // v1 hands handlers `extra.signal`; v2 a `ctx` with `mcpReq.signal`.
      const handlerExtra = extra as { signal?: AbortSignal; mcpReq?: { signal?: AbortSignal } } | undefined;
      const signal = isRequest ? (handlerExtra?.signal ?? handlerExtra?.mcpReq?.signal) : undefined;
      const auth = isRequest && kit.host.settings.recordUser ? authInfoOf(extra) : undefined;
      op = startIncoming(kit.host, protocol, method, message as JsonRpcMessageLike, isRequest, signal, auth);
    } catch (error) {
      kit.diag.error('could not start a server span', error);
      return handler.call(this, message, extra);
    }
    return runHandler(op, handler as AnyFn, this, message, extra);
  };
  wrapped[WRAPPED_HANDLER] = true;
  return wrapped;
}

/** What to do with a received message before the SDK dispatches it. */
const enum Prepared {
  /** Its handler is wrapped (or nothing is to be done). */
  Ready,
  /** The application's fallback handler was put in the map, wrapped, for this message only. */
  Temporary,
  /** No handler at all. */
  Unhandled,
}

function prepare(kit: PatchKit, protocol: ProtocolLike, handlers: unknown, method: string, isRequest: boolean): Prepared {
  if (!(handlers instanceof Map)) return Prepared.Ready;
  const handler = (handlers as Map<string, HandlerFn>).get(method);
  if (handler !== undefined) {
    if ((handler as Wrapped<HandlerFn>)[WRAPPED_HANDLER] !== true) handlers.set(method, wrapHandler(kit, protocol, handler, isRequest));
    return Prepared.Ready;
  }
  const fallback = isRequest ? protocol.fallbackRequestHandler : protocol.fallbackNotificationHandler;
  if (typeof fallback !== 'function') return Prepared.Unhandled;
  // The fallback is the application's property: wrapped for this message only, through the map.
  handlers.set(method, wrapHandler(kit, protocol, fallback, isRequest));
  return Prepared.Temporary;
}

/**
 * `_onrequest(request, extra)`. On v2 (`refusals` given), the request goes through
 * {@link V2Refusals.dispatch}, which records whatever the SDK refuses before dispatch.
 */
export function onRequestWrapper(kit: PatchKit, refusals: V2Refusals | undefined): (original: AnyFn) => AnyFn {
  return (original) =>
    function _onrequest(this: ProtocolLike, received: unknown, extra: unknown): unknown {
      const message = received as JsonRpcMessageLike | undefined;
      const method = message?.method;
      if (!kit.traces(method)) return original.call(this, received, extra);
      let prepared = Prepared.Ready;
      try {
        if (refusals !== undefined) {
          learnStatelessProtocolVersion(this, message!, extra);
          noteRawRequest(this, message!.id, message!.params);
        }
        prepared = prepare(kit, this, this._requestHandlers, method, true);
        if (prepared === Prepared.Unhandled && refusals === undefined) {
          startIncoming(kit.host, this, method, message!, true, undefined).finishError({ code: ERROR_CODE_METHOD_NOT_FOUND, message: 'Method not found' });
        }
      } catch (error) {
        kit.diag.error('could not prepare a received request', error);
      }
      try {
        return refusals !== undefined
          ? refusals.dispatch(this, message!, prepared === Prepared.Unhandled, original, received, extra)
          : original.call(this, received, extra);
      } finally {
        if (prepared === Prepared.Temporary) this._requestHandlers?.delete(method);
      }
    };
}

/** `_onnotification(notification)`; `notifications/message` also goes to the protocol-logging bridge. */
export function onNotificationWrapper(kit: PatchKit, v2: boolean): (original: AnyFn) => AnyFn {
  return (original) =>
    function _onnotification(this: ProtocolLike, received: unknown, extra: unknown): unknown {
      const message = received as JsonRpcMessageLike | undefined;
      const method = message?.method;
      if (method === 'notifications/message' && kit.active()) kit.bridgeLog(this, message!, 'incoming');
      if (!kit.traces(method)) return original.call(this, received, extra);
      let prepared = Prepared.Ready;
      try {
        if (v2) learnStatelessProtocolVersion(this, message!, extra);
        prepared = prepare(kit, this, this._notificationHandlers, method, false);
        if (prepared === Prepared.Unhandled) {
          const op = startIncoming(kit.host, this, method, message!, false, undefined);
          op.unhandled = true;
          op.finishResult(undefined);
        }
      } catch (error) {
        kit.diag.error('could not prepare a received notification', error);
      }
      try {
        return original.call(this, received, extra);
      } finally {
        if (prepared === Prepared.Temporary) this._notificationHandlers?.delete(method);
      }
    };
}
