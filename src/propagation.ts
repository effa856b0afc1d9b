/* Trace context carried across processes in `params._meta`: injected into messages sent, extracted from messages received. */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/*
 * Trace context travels in `params._meta` under the unprefixed W3C keys (`traceparent`, `tracestate`,
 * `baggage`; the MCP specification reserves them), written and read by the globally configured
 * propagators. The sender writes into a copy of the message; the receiver reads defensively: `_meta`
 * is peer-controlled input.
 */

/** Longest `_meta` value handed to a propagator; longer ones are ignored (W3C limits are far lower). */
const MAX_META_VALUE_LENGTH = 8192;

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  get(carrier, key) {
    const value = carrier[key];
    return typeof value === 'string' && value.length <= MAX_META_VALUE_LENGTH ? value : undefined;
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

/** `params._meta` of a message when it is a plain object, else `undefined`. */
export function metaOf(params: unknown): Record<string, unknown> | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
  return meta as Record<string, unknown>;
}

/** The context carried by a received message, or `undefined` when it carries none worth using. */
export function extractFromMeta(params: unknown): Context | undefined {
  const meta = metaOf(params);
  if (meta === undefined) return undefined;
  try {
    const extracted = propagation.extract(ROOT_CONTEXT, meta, metaGetter);
    return extracted === ROOT_CONTEXT ? undefined : extracted;
  } catch {
    return undefined;
  }
}

/**
 * The parent context of a SERVER span: the context from `_meta` when it carries a valid span, with the
 * ambient context's span (if any, and a different one) returned as a link; otherwise the ambient
 * context (keeping any baggage from `_meta`).
 */
export function incomingParent(params: unknown): { parent: Context; linked: ReturnType<typeof trace.getSpanContext> } {
  const active = context.active();
  const extracted = extractFromMeta(params);
  if (extracted === undefined) return { parent: active, linked: undefined };
  const remote = trace.getSpanContext(extracted);
  if (remote !== undefined && trace.isSpanContextValid(remote)) {
    // The ambient span is linked when it is another one (in process, over the in-memory transport,
    // it is usually the sending CLIENT span itself: compared first, validated only when different).
    const ambient = trace.getSpanContext(active);
    const linked = ambient !== undefined && ambient.spanId !== remote.spanId && trace.isSpanContextValid(ambient) ? ambient : undefined;
    return { parent: extracted, linked };
  }
  const baggage = propagation.getBaggage(extracted);
  return { parent: baggage !== undefined ? propagation.setBaggage(active, baggage) : active, linked: undefined };
}

/** Set by {@link metaSetter} when a propagator writes a field (one injection at a time: synchronous). */
let wrote = false;

const metaSetter: TextMapSetter<Record<string, unknown>> = {
  set(carrier, key, value) {
    carrier[key] = value;
    wrote = true;
  },
};

/**
 * A copy of `message` whose `params._meta` also holds the context's propagation fields, or the
 * message itself when the propagators wrote nothing. The caller's objects are never modified: the
 * propagators write straight into the new `_meta`, seeded with the old one's fields.
 */
export function withInjectedMeta<T extends { params?: unknown }>(message: T, ctx: Context): T {
  const params = message.params;
  const oldParams = params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : undefined;
  const oldMeta = metaOf(oldParams);
  const meta: Record<string, unknown> = oldMeta !== undefined ? { ...oldMeta } : {};
  wrote = false;
  propagation.inject(ctx, meta, metaSetter);
  if (!wrote) return message;
  return withParams(message, copyWith(oldParams, '_meta', meta));
}

const hasOwn = Object.prototype.hasOwnProperty;

/*
 * `{ ...object, [key]: value }`. Messages of every method pass through here, so an object spread sees
 * many shapes and takes V8's slow path (~4× the cost of `Object.assign` into a new object). The two are
 * the same for JSON data except for an own `__proto__` member (`JSON.parse` makes one), which
 * `Object.assign` would turn into the prototype: such objects are copied by spread.
 */
function copyWith(object: Record<string, unknown> | undefined, key: string, value: unknown): Record<string, unknown> {
  if (object !== undefined && hasOwn.call(object, '__proto__')) return { ...object, [key]: value };
  const copy: Record<string, unknown> = Object.assign({}, object);
  copy[key] = value;
  return copy;
}

function withParams<T extends { params?: unknown }>(message: T, params: Record<string, unknown>): T {
  return copyWith(message as unknown as Record<string, unknown>, 'params', params) as unknown as T;
}
