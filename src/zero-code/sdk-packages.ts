/*
 * The OpenTelemetry SDK packages, loaded at run time (never imported): NodeSDK, and what NodeSDK itself
 * depends on. Structural types of the parts used.
 */
import { createRequire } from 'node:module';
import type { SamplerLike } from '../sampler';
import { report } from './report';

export interface NodeSdkLike {
  start(): void;
  shutdown(): Promise<void>;
}

export type NodeSdkClass = new (config: object) => NodeSdkLike;

export interface ExportResultLike {
  code: number;
  error?: Error;
}

export interface SpanExporterLike {
  export(spans: unknown[], done: (result: ExportResultLike) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

export type SpanProcessorLike = object;

/** The part of `@opentelemetry/sdk-trace` (2.x and 3.x alike) used here. */
export interface SdkTraceModule {
  AlwaysOnSampler: new () => SamplerLike;
  AlwaysOffSampler: new () => SamplerLike;
  ParentBasedSampler: new (config: { root: SamplerLike }) => SamplerLike;
  TraceIdRatioBasedSampler: new (ratio: number) => SamplerLike;
  BatchSpanProcessor: new (config: { exporter: SpanExporterLike } & Record<string, unknown>) => SpanProcessorLike;
  SimpleSpanProcessor: new (config: { exporter: SpanExporterLike }) => SpanProcessorLike;
  ConsoleSpanExporter: new () => SpanExporterLike;
}

export type ExporterClass = new () => SpanExporterLike;

export interface LoadedSdk {
  NodeSDK: NodeSdkClass;
  /** `require` from NodeSDK's own location: resolves the exact packages NodeSDK uses. */
  sdkRequire: NodeJS.Require;
}

export function loadNodeSdk(): LoadedSdk | undefined {
  let path: string;
  let NodeSDK: NodeSdkClass | undefined;
  try {
    path = require.resolve('@opentelemetry/sdk-node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    NodeSDK = (require(path) as { NodeSDK?: NodeSdkClass }).NodeSDK;
  } catch (error) {
    report('sdk-node', '@opentelemetry/sdk-node is not installed (npm install @opentelemetry/sdk-node); MCP telemetry is off', error);
    return undefined;
  }
  if (typeof NodeSDK !== 'function') {
    report('sdk-node', '@opentelemetry/sdk-node exports no NodeSDK; MCP telemetry is off');
    return undefined;
  }
  return { NodeSDK, sdkRequire: createRequire(path) };
}

export function loadSdkTrace(sdkRequire: NodeJS.Require): SdkTraceModule {
  // NodeSDK builds its TracerProvider from `@opentelemetry/sdk-trace` in both lines (0.2xx also
  // re-exports the deprecated `sdk-trace-base` as `tracing`; 0.3xx exports only NodeSDK).
  return sdkRequire('@opentelemetry/sdk-trace') as SdkTraceModule;
}
