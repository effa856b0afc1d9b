/*
 * The OTLP audit sink: every record the file sink writes also leaves as an OpenTelemetry log record,
 * through a logger provider and an exporter of its own (never the application's log pipeline) — the
 * canonical line as body, the chain fields as attributes, the replica in the resource.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { envString } from '../env';
import { PACKAGE_VERSION } from '../version';
import type { WrittenRecord } from './chain-writer';
import { auditDiag } from './diagnostics';
import {
  ATTR_AUDIT_CHAIN,
  ATTR_AUDIT_CHAIN_NAME,
  ATTR_AUDIT_HASH,
  ATTR_AUDIT_KEY_ID,
  ATTR_AUDIT_PREV,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_AUDIT_SEQ,
  ATTR_SERVICE_INSTANCE_ID,
  AUDIT_EVENT_NAME,
  AUDIT_SCOPE_NAME,
} from './otlp-attributes';
import { AuditDelivery } from './otlp-delivery';
import { loadOtlpPackages, OTLP_LOG_EXPORTER_PACKAGES, type LoggerLike, type LoggerProviderLike, type LogRecordExporterLike } from './otlp-packages';
import type { AuditRecordShipper } from './sink-options';

export type AuditOtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface AuditOtlpOptions {
  /**
   * Where the records go: `http://collector:4318` (`/v1/logs` is added to a URL without a path) or a
   * full logs URL; for `grpc`, `http://collector:4317`.
   */
  endpoint: string;
  /**
   * @default `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL`, then `http/protobuf`
   */
  protocol?: AuditOtlpProtocol;
  /** @default what the exporter reads: `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, then `OTEL_EXPORTER_OTLP_HEADERS` */
  headers?: Record<string, string>;
  /** One export's time limit, its retries included. @default `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, then `OTEL_EXPORTER_OTLP_TIMEOUT`, then 10000 */
  timeoutMillis?: number;
  /**
   * Resource attributes, over those of `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME`.
   * `service.instance.id` tells replicas apart: a random UUID per process unless set here or there.
   */
  resource?: Record<string, string | number | boolean>;
  /** Records waiting for delivery; past this, new records are not queued (they stay in the local trail). @default 10000 */
  maxQueueSize?: number;
  /** @default 512 */
  maxExportBatchSize?: number;
  /** How long a record may wait for others to fill a batch. @default 1000 */
  scheduledDelayMillis?: number;
  /** Exports of one batch (each with the exporter's own retries) before it is dropped from the queue. @default 5 */
  maxAttempts?: number;
  /** Backoff between those exports: doubles from this, up to 30 s. @default 1000 */
  initialBackoffMillis?: number;
  /** What `forceFlush` and shutdown wait at most for delivery. @default 5000 */
  flushTimeoutMillis?: number;
  /** Any OpenTelemetry `LogRecordExporter` instead of the OTLP one (then `protocol`, `headers`, `timeoutMillis` are unused). */
  exporter?: LogRecordExporterLike;
}

const INFO = 9;

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

/** The protocol the options or the standard OTLP logs variables name. */
export function auditOtlpProtocol(given?: string): string {
  return given ?? envString('OTEL_EXPORTER_OTLP_LOGS_PROTOCOL') ?? envString('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
}

/** An OTLP/HTTP URL without a path gets the logs path, as `OTEL_EXPORTER_OTLP_ENDPOINT` does. */
export function auditOtlpUrl(endpoint: string, protocol: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the OTLP endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  if (protocol !== 'grpc' && (url.pathname === '' || url.pathname === '/')) url.pathname = '/v1/logs';
  return protocol === 'grpc' ? endpoint : url.toString();
}

/**
 * Ships audit records over OTLP logs. Give it to {@link AppendOnlyFileSink} as `ship` (the span
 * processor's `otlp` option does). Delivery is asynchronous: the local write has happened before,
 * and nothing here blocks or fails it.
 */
export class OtlpAuditSink implements AuditRecordShipper {
  /** Where records go (for messages). */
  readonly url: string;
  /** The resource's `service.instance.id`: this replica's name in the collected trail. */
  readonly instanceId: string;
  private readonly provider: LoggerProviderLike;
  private readonly logger: LoggerLike;
  private readonly delivery: AuditDelivery;
  private note: ((body: { type: 'undelivered'; [field: string]: unknown }) => boolean) | undefined;
  private shutDown = false;

  constructor(options: AuditOtlpOptions) {
    if (options === null || typeof options !== 'object' || typeof options.endpoint !== 'string' || options.endpoint === '') {
      throw new TypeError('OtlpAuditSink: `endpoint` is required');
    }
    const protocol = auditOtlpProtocol(options.protocol);
    if (options.exporter === undefined && OTLP_LOG_EXPORTER_PACKAGES[protocol] === undefined) {
      throw new TypeError(`OtlpAuditSink: unknown OTLP protocol ${JSON.stringify(protocol)} (http/protobuf, http/json, grpc)`);
    }
    this.url = auditOtlpUrl(options.endpoint, protocol);
    const packages = loadOtlpPackages(options.exporter === undefined ? protocol : 'http/json');
    const exporter =
      options.exporter ??
      new packages.Exporter({
        url: this.url,
        ...(options.headers !== undefined ? { headers: { ...options.headers } } : {}),
        ...(options.timeoutMillis !== undefined ? { timeoutMillis: options.timeoutMillis } : {}),
      });
    const { resources } = packages;
    let resource = resources
      .resourceFromAttributes({ 'service.name': 'unknown_service:node', [ATTR_SERVICE_INSTANCE_ID]: randomUUID(), 'host.name': hostname(), 'process.pid': process.pid })
      .merge(resources.detectResources({ detectors: [resources.envDetector] }));
    if (options.resource !== undefined) resource = resource.merge(resources.resourceFromAttributes({ ...options.resource }));
    this.instanceId = String(resource.attributes[ATTR_SERVICE_INSTANCE_ID]);
    this.delivery = new AuditDelivery({
      exporter,
      maxQueueSize: positive(options.maxQueueSize, 10_000),
      maxExportBatchSize: positive(options.maxExportBatchSize, 512),
      scheduledDelayMs: positive(options.scheduledDelayMillis, 1000),
      maxAttempts: positive(options.maxAttempts, 5),
      initialBackoffMs: positive(options.initialBackoffMillis, 1000),
      maxBackoffMs: 30_000,
      flushTimeoutMs: positive(options.flushTimeoutMillis, 5000),
      seqOf: (record) => Number((record as { attributes?: Record<string, unknown> }).attributes?.[ATTR_AUDIT_SEQ]),
      onRecovered: () => this.recordUndelivered(),
      describe: this.url,
    });
    this.provider = new packages.sdkLogs.LoggerProvider({ resource, processors: [this.delivery] });
    this.logger = this.provider.getLogger(AUDIT_SCOPE_NAME, PACKAGE_VERSION);
  }

  /** Records delivered, dropped (they stay in the local trail, and an `undelivered` record names them), and waiting. */
  get counts(): { delivered: number; dropped: number; queued: number } {
    return { delivered: this.delivery.delivered, dropped: this.delivery.dropped, queued: this.delivery.queued };
  }

  attach(note: (body: { type: 'undelivered'; [field: string]: unknown }) => boolean): void {
    this.note = note;
  }

  ship(record: WrittenRecord): void {
    try {
      const attributes: Record<string, string | number> = {
        [ATTR_AUDIT_CHAIN]: record.chain,
        [ATTR_AUDIT_CHAIN_NAME]: record.name,
        [ATTR_AUDIT_SEQ]: record.seq,
        [ATTR_AUDIT_PREV]: record.prev,
        [ATTR_AUDIT_HASH]: record.hash,
        [ATTR_AUDIT_RECORD_TYPE]: record.type,
      };
      if (record.keyId !== undefined) attributes[ATTR_AUDIT_KEY_ID] = record.keyId;
      const ts = Date.parse(record.ts);
      this.logger.emit({
        timestamp: Number.isFinite(ts) ? ts : Date.now(),
        severityNumber: INFO,
        severityText: 'INFO',
        eventName: AUDIT_EVENT_NAME,
        body: record.line,
        attributes,
      });
    } catch (error) {
      auditDiag.error('could not hand an audit record to its OTLP logger (it stays in the local trail)', error);
    }
  }

  beforeClose(): void {
    this.recordUndelivered();
  }

  flush(): Promise<void> {
    return this.delivery.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    try {
      await this.provider.shutdown();
    } catch (error) {
      auditDiag.debug('the OTLP audit logger provider failed to shut down', error);
    }
    const { dropped, delivered } = this.counts;
    if (dropped > 0) auditDiag.warn(`${dropped} audit record(s) were not delivered to ${this.url} (${delivered} were); they are in the local trail`);
  }

  /** Writes, into the chain, which records could not be delivered (when there are, and the trail can be written). */
  private recordUndelivered(): void {
    const ledger = this.delivery.takeLedger();
    if (ledger === undefined) return;
    const noted = this.note?.({ type: 'undelivered', count: ledger.count, seqs: ledger.ranges, since: ledger.since, error: ledger.error }) ?? false;
    if (!noted) this.delivery.restoreLedger(ledger);
  }
}
