/*
 * The notifications `createMcpHandler` writes on a `subscriptions/listen` stream: the SDK's event bus
 * (`InMemoryServerEventBus.prototype.subscribe`) hands each subscriber its events; a subscriber made
 * while a listen request is served gets each event it writes as a CLIENT span, child of the listen
 * span, with the trace context in the written notification's `_meta`.
 */
import { context } from '@opentelemetry/api';
import { httpPeerStorage } from '../connection';
import type { McpOperation } from '../operation/operation';
import { finishErrorSafely, finishResultSafely } from '../operation/run';
import { startOutgoing } from '../operation/start';
import { withInjectedMeta } from '../propagation';
import type { AnyFn, PatchKit } from './kit';

/** The notification method of a server event, as the SDK maps it. */
function methodOf(kind: unknown): string | undefined {
  switch (kind) {
    case 'tools_list_changed':
      return 'notifications/tools/list_changed';
    case 'prompts_list_changed':
      return 'notifications/prompts/list_changed';
    case 'resources_list_changed':
      return 'notifications/resources/list_changed';
    case 'resource_updated':
      return 'notifications/resources/updated';
    default:
      return undefined;
  }
}

interface ServerEventLike {
  kind?: unknown;
  uri?: unknown;
  params?: unknown;
}

/**
 * The event as the subscriber sees it: the same `kind` and `uri`; its `params`, read only by a
 * subscriber about to write the notification, start the CLIENT span and carry its trace context.
 */
class TracedEvent {
  readonly kind: unknown;
  readonly uri: unknown;
  op: McpOperation | undefined = undefined;
  private injected: unknown = undefined;
  private read = false;

  constructor(
    private readonly kit: PatchKit,
    private readonly listen: McpOperation,
    private readonly method: string,
    private readonly event: ServerEventLike,
  ) {
    this.kind = event.kind;
    this.uri = event.uri;
  }

  get params(): unknown {
    if (this.read) return this.injected;
    this.read = true;
    const params = this.event.params;
    this.injected = params;
    try {
      const described = this.uri !== undefined ? { params: { ...(params as object | undefined), uri: this.uri } } : { params };
      const op = context.with(this.listen.ctx, () => startOutgoing(this.kit.host, this.listen.conn, this.method, described, false, undefined));
      this.op = op;
      this.injected = withInjectedMeta({ params }, op.ctx).params;
    } catch (error) {
      this.kit.diag.error('could not trace a subscriptions/listen notification', error);
    }
    return this.injected;
  }
}

function tracedSubscriber(kit: PatchKit, listen: McpOperation, listener: AnyFn): AnyFn {
  return function (this: unknown, event: unknown): unknown {
    const method = methodOf((event as ServerEventLike | null)?.kind);
    if (method === undefined || !kit.traces(method)) return listener.call(this, event);
    const traced = new TracedEvent(kit, listen, method, event as ServerEventLike);
    try {
      const result = listener.call(this, traced);
      if (traced.op !== undefined) finishResultSafely(traced.op, undefined);
      return result;
    } catch (error) {
      if (traced.op !== undefined) finishErrorSafely(traced.op, error);
      throw error;
    }
  };
}

/** `InMemoryServerEventBus.prototype.subscribe(listener)`. */
export function subscribeWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function subscribe(this: unknown, listener: unknown): unknown {
      let listen: McpOperation | undefined;
      try {
        listen = kit.active() && typeof listener === 'function' ? (httpPeerStorage.getStore()?.listen as McpOperation | undefined) : undefined;
      } catch {
        listen = undefined;
      }
      if (listen === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return original.call(this, tracedSubscriber(kit, listen, listener as AnyFn));
    };
}
