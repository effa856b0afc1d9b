/*
 * The telemetry scope: timers and sockets our SDK creates — its exporters, their retries, the metric
 * readers' periodic export — never keep the process alive; only the application's own work does.
 * So a process whose application is done reaches `beforeExit` even while an exporter still retries
 * an unreachable collector, and the bounded flush at exit (./shutdown) decides how long it may wait.
 *
 * The scope is an AsyncLocalStorage: everything started inside it (the SDK's construction and
 * start, each span's hand-over to a batch processor) and everything those start later is ours. An
 * async hook unrefs the timers and handles created there; nothing of the application's runs in it.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { report } from './report';
import type { SpanProcessorLike } from './sdk-packages';

const scope = new AsyncLocalStorage<true>();

/** Handles that keep the event loop alive while open (an exporter's sockets). */
const HANDLE_TYPES = new Set(['TCPWRAP', 'PIPEWRAP', 'UDPWRAP']);

interface Refable {
  ref(): unknown;
  unref(): unknown;
}

/** Handles waiting for their native side to be set up (unref'd once the current task ends). */
let pendingHandles: Refable[] = [];

function noRef(this: Refable): Refable {
  return this;
}

function unrefPendingHandles(): void {
  const handles = pendingHandles;
  pendingHandles = [];
  for (const handle of handles) {
    try {
      handle.unref();
      // An http.Agent refs a kept-alive socket again when it reuses it: ours stay unref'd.
      handle.ref = noRef;
    } catch {
      /* closed already */
    }
  }
}

function init(_asyncId: number, type: string, _triggerAsyncId: number, resource: object): void {
  // An exception thrown here would end the process: nothing may escape.
  try {
    if (type === 'PROMISE' || scope.getStore() !== true) return;
    if (type === 'Timeout') {
      (resource as Refable).unref();
    } else if (HANDLE_TYPES.has(type) && typeof (resource as Partial<Refable>).unref === 'function') {
      // The hook runs before the native handle is initialised (which would undo an unref now).
      pendingHandles.push(resource as Refable);
      if (pendingHandles.length === 1) queueMicrotask(unrefPendingHandles);
    }
  } catch {
    /* ignore */
  }
}

const HOOK_KEY = Symbol.for('opentelemetry-instrumentation-mcp.telemetry-scope-hook');

/** Turns the scope on, once per process. */
export function enableTelemetryScope(): void {
  const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (holder[HOOK_KEY] === true) return;
  holder[HOOK_KEY] = true;
  try {
    // `trackPromises: false` (newer Node) spares every promise a call: promises hold no event loop.
    createHook({ init, trackPromises: false } as Parameters<typeof createHook>[0]).enable();
  } catch (error) {
    report('telemetry-scope', 'exporters may keep the process alive after the application is done (up to their own timeouts)', error);
  }
}

/** Runs `fn` in the telemetry scope. */
export function runAsTelemetry<T>(fn: () => T): T {
  return scope.run(true, fn);
}

interface SpanProcessorMethods {
  onStart(span: unknown, parentContext: unknown): void;
  onEnd(span: unknown): void;
  onEnding?(span: unknown): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** `processor.onEnd(span)`, for `scope.run` (which passes arguments on: no closure per span). */
function endIn(processor: SpanProcessorMethods, span: unknown): void {
  processor.onEnd(span);
}

/**
 * A batch span processor whose timer, and so each export it starts, belongs to the telemetry scope:
 * the processor starts them when a span ends, in the application's own context.
 */
export function inTelemetryScope(processor: SpanProcessorLike): SpanProcessorLike {
  const inner = processor as SpanProcessorMethods;
  const wrapped: SpanProcessorMethods = {
    onStart: (span, parentContext) => inner.onStart(span, parentContext),
    onEnd: (span) => scope.run(true, endIn, inner, span),
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
  if (typeof inner.onEnding === 'function') wrapped.onEnding = (span) => inner.onEnding!(span);
  return wrapped;
}
