/*
 * The OpenTelemetry logs SDK, resources and OTLP logs exporter the OTLP audit sink uses, loaded only
 * when it is made (never by the audit's or the package's import): from the application's own
 * dependencies, or else those `@opentelemetry/sdk-node` brings.
 */
import { createRequire } from 'node:module';

/** The OTLP protocols, and the exporter package of each. */
export const OTLP_LOG_EXPORTER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  'http/json': '@opentelemetry/exporter-logs-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-logs-otlp-proto',
  grpc: '@opentelemetry/exporter-logs-otlp-grpc',
});

export interface ExportResultLike {
  code: number;
  error?: Error;
}

export interface LogRecordExporterLike {
  export(records: unknown[], done: (result: ExportResultLike) => void): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface LogRecordProcessorLike {
  onEmit(record: unknown): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface LoggerLike {
  emit(record: {
    timestamp?: number;
    severityNumber?: number;
    severityText?: string;
    eventName?: string;
    body?: string;
    attributes?: Record<string, string | number>;
  }): void;
}

export interface LoggerProviderLike {
  getLogger(name: string, version?: string): LoggerLike;
  shutdown(): Promise<void>;
}

export interface SdkLogsModule {
  LoggerProvider: new (config: { resource?: unknown; processors?: LogRecordProcessorLike[] }) => LoggerProviderLike;
}

export interface ResourceLike {
  attributes: Record<string, unknown>;
  merge(other: ResourceLike | null): ResourceLike;
}

export interface ResourcesModule {
  resourceFromAttributes(attributes: Record<string, unknown>): ResourceLike;
  detectResources(config: { detectors: unknown[] }): ResourceLike;
  envDetector: unknown;
}

export interface OtlpPackages {
  sdkLogs: SdkLogsModule;
  resources: ResourcesModule;
  Exporter: new (config: Record<string, unknown>) => LogRecordExporterLike;
}

/** `require` as the application sees it, then as `@opentelemetry/sdk-node` sees it. */
function requirers(): NodeJS.Require[] {
  const list: NodeJS.Require[] = [require];
  try {
    list.push(createRequire(require.resolve('@opentelemetry/sdk-node')));
  } catch {
    /* no sdk-node: only the application's own packages */
  }
  return list;
}

function load(id: string, from: NodeJS.Require[]): unknown {
  let first: unknown;
  for (const req of from) {
    try {
      return req(id);
    } catch (error) {
      first ??= error;
    }
  }
  throw Object.assign(new Error(`${id} is not installed (it comes with @opentelemetry/sdk-node, or: npm install ${id})`), { cause: first });
}

/** Loads what the OTLP audit sink needs for `protocol`; throws a readable error when something is missing. */
export function loadOtlpPackages(protocol: string): OtlpPackages {
  const from = requirers();
  const exporterPackage = OTLP_LOG_EXPORTER_PACKAGES[protocol];
  if (exporterPackage === undefined) throw new TypeError(`unknown OTLP protocol ${JSON.stringify(protocol)} (http/protobuf, http/json, grpc)`);
  const { OTLPLogExporter } = load(exporterPackage, from) as { OTLPLogExporter: OtlpPackages['Exporter'] };
  return {
    sdkLogs: load('@opentelemetry/sdk-logs', from) as SdkLogsModule,
    resources: load('@opentelemetry/resources', from) as ResourcesModule,
    Exporter: OTLPLogExporter,
  };
}
