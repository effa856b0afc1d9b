/* The user's request and response hooks, called so that a hook that throws never reaches the application nor floods the diagnostics. */
import type { Span } from '@opentelemetry/api';
import { logger } from '../logger';

/** Throws seen per hook function: the first is reported with its error, then every power of ten as a count. */
const throwsByHook = new WeakMap<object, number>();

function reportThrow(hook: object, name: string, error: unknown): void {
  const count = (throwsByHook.get(hook) ?? 0) + 1;
  throwsByHook.set(hook, count);
  if (count === 1) {
    logger.error(`${name} threw (reported once; later throws are counted)`, error);
  } else if (Number.isInteger(Math.log10(count))) {
    logger.warn(`${name} has thrown ${count} times`);
  }
}

/** Calls `hook(span, info)`; what it throws is reported, never propagated. */
export function runHook<I>(hook: (span: Span, info: I) => void, span: Span, info: I, name: string): void {
  try {
    hook(span, info);
  } catch (error) {
    try {
      reportThrow(hook, name, error);
    } catch {
      // reporting must not fail either
    }
  }
}

/** How many times `hook` has thrown (for tests and diagnostics). */
export function hookThrowCount(hook: object): number {
  return throwsByHook.get(hook) ?? 0;
}
