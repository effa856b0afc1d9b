/* What an operation needs from the instrumentation that starts it: tracer, settings, instruments, and one hook for per-method side effects. */
import type { Histogram, Tracer } from '@opentelemetry/api';
import type { ConnectionState } from '../connection';
import type { Settings } from '../settings';
import type { McpMessageDirection } from '../types';
import type { MessageTarget } from './target';

/** A finished operation, as the host's {@link OperationHost.onEnd} hook sees it. */
export interface FinishedOperation {
  readonly conn: ConnectionState;
  readonly direction: McpMessageDirection;
  readonly method: string;
  readonly target: MessageTarget;
  readonly params: unknown;
  readonly isRequest: boolean;
  /** The `logLevel` a received 2026-07-28 request's `_meta` asked for, as sent. */
  readonly requestLogLevel: unknown;
}

export interface OperationHost {
  readonly tracer: Tracer;
  readonly settings: Settings;
  readonly serverDuration: Histogram | undefined;
  readonly clientDuration: Histogram | undefined;
  /**
   * Called once per operation, after its span ended and its duration was recorded: where per-method side
   * effects (a session's `logging/setLevel`, operation-log forwarding) happen, so that the operation
   * imports none of them. `errorType` is `undefined` for a success.
   */
  readonly onEnd: ((op: FinishedOperation, errorType: string | undefined, latencyMs: number) => void) | undefined;
}
