/*
 * A real OpenTelemetry SDK for tests: a tracer provider with an in-memory exporter behind a simple
 * processor, the AsyncLocalStorage context manager, W3C trace-context and baggage propagators, and a
 * meter provider with a reader the test collects on demand. Works with the 2.x and 3.x SDK lines.
 */
import { context, metrics, propagation, trace, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import * as sdkTrace from '@opentelemetry/sdk-trace';

export type FinishedSpan = sdkTrace.ReadableSpan;

class TestMetricReader extends sdkMetrics.MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TestOtel {
  exporter: sdkTrace.InMemorySpanExporter;
  tracerProvider: sdkTrace.TracerProvider;
  meterProvider: sdkMetrics.MeterProvider;
  reader: TestMetricReader;
  spans(): FinishedSpan[];
  reset(): void;
}

export function setupOtel(options: { sampler?: sdkTrace.Sampler } = {}): TestOtel {
  const exporter = new sdkTrace.InMemorySpanExporter();
  const tracerProvider = new sdkTrace.TracerProvider({
    spanProcessors: [new sdkTrace.SimpleSpanProcessor({ exporter })],
    ...(options.sampler !== undefined ? { sampler: options.sampler } : {}),
  });
  trace.setGlobalTracerProvider(tracerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const reader = new TestMetricReader();
  const meterProvider = new sdkMetrics.MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    tracerProvider,
    meterProvider,
    reader,
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
  };
}

export function parentSpanIdOf(span: FinishedSpan): string | undefined {
  const s = span as unknown as { parentSpanContext?: { spanId: string }; parentSpanId?: string };
  return s.parentSpanContext?.spanId ?? s.parentSpanId;
}

export function kindName(kind: SpanKind): string {
  return SpanKind[kind];
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The spans whose name is `name`. */
export function named(spans: FinishedSpan[], name: string): FinishedSpan[] {
  return spans.filter((s) => s.name === name);
}

/** The one span named `name` of `kind`; fails when there is not exactly one. */
export function only(spans: FinishedSpan[], name: string, kind: SpanKind): FinishedSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  if (found.length !== 1) {
    throw new Error(
      `expected exactly one ${SpanKind[kind]} span "${name}", found ${found.length}; spans: ${spans
        .map((s) => `${SpanKind[s.kind]} ${s.name}`)
        .join(', ')}`,
    );
  }
  return found[0]!;
}
