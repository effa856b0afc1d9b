/* Running code inside an operation: a handler or an SDK call in the operation's context, ended with whatever it returns, throws or settles to. */
import { context } from '@opentelemetry/api';
import type { JsonRpcMessageLike } from '../internal-types';
import { logger } from '../logger';
import { requestObservers, type IncomingRequestInfo } from '../request-observers';
import type { McpOperation } from './operation';

export type AnyFn = (...args: unknown[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/*
 * `fn.call(self, …)` for `context.with`, which would otherwise bind `fn` to `self` (a new function per
 * call) when given a `this`.
 */
export function invoke2(fn: AnyFn, self: unknown, a: unknown, b: unknown): unknown {
  return fn.call(self, a, b);
}

export function invoke3(fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown): unknown {
  return fn.call(self, a, b, c);
}

export function invoke4(fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown, d: unknown): unknown {
  return fn.call(self, a, b, c, d);
}

/**
 * Calls `original` on `self` with `a, b, c` (through `invoke`, which passes on as many as it takes) in
 * the operation's context, and ends the operation with the outcome, which the caller gets unchanged.
 */
export function callInOperation(
  op: McpOperation,
  invoke: (fn: AnyFn, self: unknown, a: unknown, b: unknown, c: unknown) => unknown,
  original: AnyFn,
  self: unknown,
  a: unknown,
  b: unknown,
  c: unknown,
): unknown {
  let pending: unknown;
  try {
    pending = context.with(op.ctx, invoke, undefined, original, self, a, b, c);
  } catch (error) {
    finishErrorSafely(op, error);
    throw error;
  }
  return settle(op, pending);
}

/**
 * Runs a received message's `handler` in its operation: the request observers (the audit trail) see a
 * request first and may refuse it; the outcome ends the operation and reaches the SDK unchanged.
 */
export function runHandler(op: McpOperation, handler: AnyFn, self: unknown, message: unknown, extra: unknown): unknown {
  if (op.isRequest && requestObservers.size > 0) {
    const refusal = observe(op, message as JsonRpcMessageLike, extra);
    if (refusal !== undefined) {
      finishErrorSafely(op, refusal);
      return Promise.reject(refusal);
    }
  }
  return callInOperation(op, invoke2, handler, self, message, extra, undefined);
}

/**
 * Shows a received request to the registered observers; returns the JSON-RPC error one of them
 * refused it with, if any. Any other exception of an observer is reported, not propagated.
 */
function observe(op: McpOperation, message: JsonRpcMessageLike, extra: unknown): unknown {
  const info: IncomingRequestInfo = { span: op.span, method: op.method, requestId: op.requestId, params: message.params, extra };
  for (const observer of requestObservers) {
    try {
      observer.onIncomingRequest(info);
    } catch (error) {
      if (Number.isSafeInteger((error as { code?: unknown } | null)?.code)) return error;
      logger.error('a request observer failed', error);
    }
  }
  return undefined;
}

/** Ends `op` when `pending` settles, and hands the caller the same outcome. */
export function settle(op: McpOperation, pending: unknown): unknown {
  if (!isThenable(pending)) {
    finishResultSafely(op, pending);
    return pending;
  }
  return pending.then(
    (value) => {
      finishResultSafely(op, value);
      return value;
    },
    (error: unknown) => {
      finishErrorSafely(op, error);
      throw error;
    },
  );
}

export function finishResultSafely(op: McpOperation, value: unknown): void {
  try {
    op.finishResult(value);
  } catch (error) {
    logger.error('unexpected error', error);
  }
}

export function finishErrorSafely(op: McpOperation, failure: unknown): void {
  try {
    op.finishError(failure);
  } catch (error) {
    logger.error('unexpected error', error);
  }
}
