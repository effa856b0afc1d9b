/*
 * What a 2026-07-28 request says on the wire that the handler's decoded copy no longer shows (the SDK
 * strips `requestState` and `_meta`), read in `_onrequest` and handed to the request's operation:
 * - a retry of a multi-round-trip request (`resultType: "input_required"` answered with an opaque
 *   `requestState`, echoed back by the client): its SERVER span links to the first one's, remembered
 *   by state in this process (bounded, oldest first: a retry served by another replica, or long after,
 *   is not linked);
 * - the per-request `logLevel` in `_meta` (which replaces `logging/setLevel`).
 */
import type { SpanContext } from '@opentelemetry/api';
import { META_KEY_LOG_LEVEL } from '../semconv';

/** States remembered at most; past this the oldest is forgotten. */
const MAX_STATES = 1024;
/** Longer states are not remembered (they are the server's opaque blobs, kept in memory here). */
const MAX_STATE_LENGTH = 4096;

const firstSpans = new Map<string, SpanContext>();

/** What the operation of one raw request takes from it. */
export interface RawRequestNote {
  /** The span of the request this one retries. */
  readonly retryOf: SpanContext | undefined;
  /** The `logLevel` of the request's `_meta`, as sent (validated where it is used). */
  readonly logLevel: unknown;
}

/** Notes waiting for their request's span, by the receiving protocol object and request id. */
const pending = new WeakMap<object, Map<unknown, RawRequestNote>>();
/** Notes not yet taken (so that requests pay nothing while there are none). */
let pendingCount = 0;

/** Remembers the span of a request answered `input_required` with `requestState`. */
export function rememberInputRequired(result: object, spanContext: SpanContext): void {
  const state = (result as { requestState?: unknown }).requestState;
  if (typeof state !== 'string' || state.length > MAX_STATE_LENGTH) return;
  firstSpans.delete(state);
  firstSpans.set(state, spanContext);
  if (firstSpans.size > MAX_STATES) firstSpans.delete(firstSpans.keys().next().value as string);
}

/** A request arrived, raw as on the wire: what its operation must know waits under protocol and id. */
export function noteRawRequest(protocol: object, id: unknown, params: unknown): void {
  if (params === null || typeof params !== 'object') return;
  const state = firstSpans.size > 0 ? (params as { requestState?: unknown }).requestState : undefined;
  const retryOf = typeof state === 'string' ? firstSpans.get(state) : undefined;
  const meta = (params as { _meta?: unknown })._meta;
  const logLevel = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)[META_KEY_LOG_LEVEL] : undefined;
  if (retryOf === undefined && logLevel === undefined) return;
  let notes = pending.get(protocol);
  if (notes === undefined) pending.set(protocol, (notes = new Map()));
  if (!notes.has(id)) pendingCount++;
  notes.set(id, { retryOf, logLevel });
}

/** The note of a request about to get its SERVER span (taken once). */
export function takeRawRequestNote(protocol: object | undefined, id: unknown): RawRequestNote | undefined {
  if (pendingCount === 0 || protocol === undefined) return undefined;
  const notes = pending.get(protocol);
  const note = notes?.get(id);
  if (note !== undefined) {
    notes!.delete(id);
    pendingCount--;
  }
  return note;
}
