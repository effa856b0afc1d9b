/* The sampler and the span processors the standard `OTEL_*` variables name, built as NodeSDK builds them. */
import type { SamplerLike } from '../sampler';
import { otlpProtocol } from './diagnostics';
import { envList, envPositiveNumber, envString } from './env';
import { report } from './report';
import type { ExporterClass, SdkTraceModule, SpanExporterLike, SpanProcessorLike } from './sdk-packages';
import { inTelemetryScope } from './telemetry-scope';

// The sampler of OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.

function samplerRatio(): number {
  const raw = envString('OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    report('sampler-arg', `OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(raw)} is not a ratio in [0, 1]; 1 is used`);
    return 1;
  }
  return ratio;
}

/** The sampler the variables name; `undefined` for the SDK's default (`parentbased_always_on`). */
export function envSampler(sdkTrace: SdkTraceModule): SamplerLike | undefined {
  const name = envString('OTEL_TRACES_SAMPLER');
  switch (name) {
    case undefined:
      return undefined;
    case 'always_on':
      return new sdkTrace.AlwaysOnSampler();
    case 'always_off':
      return new sdkTrace.AlwaysOffSampler();
    case 'traceidratio':
      return new sdkTrace.TraceIdRatioBasedSampler(samplerRatio());
    case 'parentbased_always_on':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.TraceIdRatioBasedSampler(samplerRatio()) });
    default:
      report(
        'sampler',
        `OTEL_TRACES_SAMPLER=${JSON.stringify(name)} is not supported (always_on, always_off, traceidratio, ` +
          'parentbased_always_on, parentbased_always_off, parentbased_traceidratio); parentbased_always_on is used',
      );
      return undefined;
  }
}

// The span processors of OTEL_TRACES_EXPORTER.

function traceEndpointOf(protocol: string): string {
  const specific = envString('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific !== undefined) return specific;
  const base = envString('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (protocol === 'grpc') return base ?? 'http://localhost:4317';
  return base !== undefined ? `${base.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces';
}

/** Hands the exporter's results on unchanged; reports the first failed export on stderr. */
function reportingExporter(exporter: SpanExporterLike, what: string): SpanExporterLike {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) report(`export:${what}`, `could not export spans (${what}); later failures are not reported`, result.error);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (typeof exporter.forceFlush === 'function' ? exporter.forceFlush() : Promise.resolve()),
  };
}

function otlpTraceExporter(sdkRequire: NodeJS.Require): SpanExporterLike {
  let protocol = otlpProtocol('TRACES');
  const packages: Record<string, string> = {
    grpc: '@opentelemetry/exporter-trace-otlp-grpc',
    'http/json': '@opentelemetry/exporter-trace-otlp-http',
    'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  };
  if (packages[protocol] === undefined) {
    report('protocol', `OTLP traces protocol ${JSON.stringify(protocol)} is not supported (grpc, http/json, http/protobuf); http/protobuf is used`);
    protocol = 'http/protobuf';
  }
  const { OTLPTraceExporter } = sdkRequire(packages[protocol]!) as { OTLPTraceExporter: ExporterClass };
  return reportingExporter(new OTLPTraceExporter(), `otlp ${protocol} to ${traceEndpointOf(protocol)}`);
}

function batchProcessor(sdkTrace: SdkTraceModule, exporter: SpanExporterLike): SpanProcessorLike {
  return inTelemetryScope(new sdkTrace.BatchSpanProcessor({
    exporter,
    maxQueueSize: envPositiveNumber('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: envPositiveNumber('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: envPositiveNumber('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: envPositiveNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  }));
}

/** NodeSDK's `getSpanProcessorsFromEnv`, which neither SDK line exports. */
export function envSpanProcessors(sdkRequire: NodeJS.Require, sdkTrace: SdkTraceModule): SpanProcessorLike[] {
  let names = [...new Set(envList('OTEL_TRACES_EXPORTER'))].filter((name) => name !== 'null');
  if (names[0] === 'none') return [];
  if (names.length === 0) names = ['otlp'];
  else if (names.includes('none')) {
    report('exporter-none', 'OTEL_TRACES_EXPORTER names "none" with other exporters; otlp is used, as NodeSDK does');
    names = ['otlp'];
  }
  const processors: SpanProcessorLike[] = [];
  for (const name of names) {
    try {
      if (name === 'otlp') {
        processors.push(batchProcessor(sdkTrace, otlpTraceExporter(sdkRequire)));
      } else if (name === 'zipkin') {
        const { ZipkinExporter } = sdkRequire('@opentelemetry/exporter-zipkin') as { ZipkinExporter: ExporterClass };
        const url = envString('OTEL_EXPORTER_ZIPKIN_ENDPOINT') ?? 'http://localhost:9411/api/v2/spans';
        processors.push(batchProcessor(sdkTrace, reportingExporter(new ZipkinExporter(), `zipkin to ${url}`)));
      } else if (name === 'console') {
        processors.push(new sdkTrace.SimpleSpanProcessor({ exporter: new sdkTrace.ConsoleSpanExporter() }));
      } else {
        report(`exporter:${name}`, `OTEL_TRACES_EXPORTER names an unknown exporter ${JSON.stringify(name)} (otlp, zipkin, console, none); it is skipped`);
      }
    } catch (error) {
      report(`exporter:${name}`, `the ${name} trace exporter could not be created; it is skipped`, error);
    }
  }
  return processors;
}
