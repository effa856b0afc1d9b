/* The registry of request observers: how the audit trail sees received requests before their handlers run, without the core importing it. */
import type { Span } from '@opentelemetry/api';

/*
 * Components of this package that must see a received request before its handler runs — the audit
 * trail records who asked (from `extra.authInfo`) and what (a digest of the arguments), and, in its
 * fail-closed mode, refuses requests it cannot record. They register here; with none registered the
 * instrumentation's hot path pays one size check.
 */

/** A received request, about to be handled. Read-only: these are the SDK's and the peer's objects. */
export interface IncomingRequestInfo {
  readonly span: Span;
  readonly method: string;
  readonly requestId: string | number | undefined;
  readonly params: unknown;
  /** The handler's `extra` from the SDK (`authInfo`, `sessionId`, `requestInfo`…). */
  readonly extra: unknown;
}

/**
 * Observers see only requests the instrumentation traces: not those of methods in `ignoreMethods`, nor
 * any while the instrumentation is disabled. `info.span` may be a non-recording span (sampled out, no
 * SDK), whose `onEnd` never comes: state keyed by it must check `span.isRecording()` or be bounded.
 */
export interface RequestObserver {
  /**
   * Called before the handler of every received request. Throwing an error with an integer `code`
   * (a JSON-RPC error) refuses the request: the handler does not run and the peer gets that error.
   */
  onIncomingRequest(info: IncomingRequestInfo): void;
}

export const requestObservers = new Set<RequestObserver>();

export function addRequestObserver(observer: RequestObserver): () => void {
  requestObservers.add(observer);
  return () => {
    requestObservers.delete(observer);
  };
}
