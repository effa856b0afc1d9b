/* Messages this package sends itself (forwarded operation logs) are sent in a context that tells the patches not to trace them. */
import { context, createContextKey, type Context } from '@opentelemetry/api';

const UNTRACED = createContextKey('opentelemetry-instrumentation-mcp untraced');

/** Runs `fn` in a context in which messages sent are not traced. */
export function withoutTracing<T>(fn: () => T): T {
  return context.with(context.active().setValue(UNTRACED, true), fn);
}

export function isUntraced(ctx: Context): boolean {
  return ctx.getValue(UNTRACED) === true;
}
