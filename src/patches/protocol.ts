/* The patcher of `Protocol` (the base of `Server` and `Client`, 1.x and v2): which wrapper goes on which method. */
import { connectWrapper, onCancelWrapper, onCloseWrapper, onErrorWrapper, onResponseWrapper } from './lifecycle';
import type { AnyFn, Patchable, Patcher, PatchKit } from './kit';
import { onNotificationWrapper, onRequestWrapper } from './receive';
import { codecNotificationWrapper, codecRequestWrapper, notificationWrapper, requestWrapper } from './send';
import type { V2Refusals } from './v2-refusals';

const PROTOCOL_METHODS = [
  'connect',
  'request',
  'notification',
  '_requestWithSchemaViaCodec',
  '_notificationViaCodec',
  '_onrequest',
  '_onnotification',
  '_onresponse',
  '_oncancel',
  '_onerror',
  '_onclose',
] as const;

/**
 * v2's `Protocol` sends every request and notification through two funnels (its handlers'
 * `ctx.mcpReq.send`/`notify` call them directly, bypassing `request`/`notification`): they are wrapped
 * there instead.
 */
function isV2(proto: Patchable): boolean {
  return typeof proto._requestWithSchemaViaCodec === 'function' && typeof proto._notificationViaCodec === 'function';
}

export function protocolPatcher(kit: PatchKit, refusals: () => V2Refusals): Patcher {
  return {
    methods: PROTOCOL_METHODS,
    wrappers(proto) {
      const v2 = isV2(proto);
      const list: Array<readonly [string, (original: AnyFn) => AnyFn]> = [['connect', connectWrapper(kit)]];
      if (v2) {
        list.push(['_requestWithSchemaViaCodec', codecRequestWrapper(kit)], ['_notificationViaCodec', codecNotificationWrapper(kit)]);
      } else {
        list.push(['request', requestWrapper(kit)], ['notification', notificationWrapper(kit)]);
      }
      list.push(
        ['_onrequest', onRequestWrapper(kit, v2 ? refusals() : undefined)],
        ['_onnotification', onNotificationWrapper(kit, v2)],
        ['_onresponse', onResponseWrapper(kit)],
        ['_oncancel', onCancelWrapper(kit)],
        ['_onerror', onErrorWrapper(kit)],
        ['_onclose', onCloseWrapper(kit)],
      );
      return list;
    },
  };
}
