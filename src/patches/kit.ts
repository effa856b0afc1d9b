/* What every patch gets from the instrumentation: the operation host, its switches, wrapping, and its component logger. */
import type { DiagLogger } from '@opentelemetry/api';
import type { ConnectionState } from '../connection';
import type { JsonRpcMessageLike, ProtocolLike } from '../internal-types';
import type { OperationHost } from '../operation/host';

export type AnyFn = (...args: unknown[]) => unknown;
export type Patchable = Record<string, unknown>;

export interface PatchKit {
  readonly host: OperationHost;
  readonly diag: DiagLogger;
  /** Whether the instrumentation is enabled (a wrapper installed before `disable()` may still be called). */
  active(): boolean;
  /** Whether an operation of `method` should be traced and measured now. */
  traces(method: unknown): method is string;
  wrap(target: Patchable, name: string, wrapper: (original: AnyFn) => AnyFn): void;
  unwrap(target: Patchable, name: string): void;
  /** A `notifications/message` sent or received, for the protocol-logging bridge. */
  bridgeLog(protocol: ProtocolLike, message: JsonRpcMessageLike, direction: 'incoming' | 'outgoing'): void;
  /** The connection ended: its session is measured. */
  recordSession(conn: ConnectionState): void;
}

/** Runs `fn`; an exception of ours is reported through the kit's logger, never propagated. */
export function safely(kit: PatchKit, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    kit.diag.error('internal error (the application is not affected)', error);
  }
}

/** The wrappers one patch target gets: every method it may wrap, and the wrapper of each for a given target. */
export interface Patcher {
  /** Every method name this patcher may wrap (what unpatching looks at). */
  readonly methods: readonly string[];
  /** The wrappers for `target` (a prototype, or a module's exports), by method name. */
  wrappers(target: Patchable): ReadonlyArray<readonly [string, (original: AnyFn) => AnyFn]>;
}
