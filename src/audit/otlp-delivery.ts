/*
 * The delivery of audit log records to their OTLP exporter: a bounded queue exported in order, one
 * batch at a time, each batch retried with backoff; what cannot be delivered is dropped from the queue
 * (it stays in the local trail) and counted in a ledger of sequence ranges the sink then records.
 */
import { auditDiag } from './diagnostics';
import type { ExportResultLike, LogRecordExporterLike, LogRecordProcessorLike } from './otlp-packages';

export interface DeliverySettings {
  exporter: LogRecordExporterLike;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  /** Exports of one batch (the exporter's own retries of 429/502/503/504 happen within each) before it is dropped. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** What `shutdown` (and `forceFlush`) may wait at most. */
  flushTimeoutMs: number;
  /** The chain position of a log record. */
  seqOf(record: unknown): number;
  /** A batch was delivered while records are in the ledger: the sink may record them now. */
  onRecovered(): void;
  describe: string;
}

/** Records not delivered since the ledger was last recorded: how many, which (seq ranges), since when, why. */
export interface UndeliveredLedger {
  count: number;
  ranges: Array<[number, number]>;
  since: string;
  error: string;
}

/** Ranges kept in the ledger; past this the last range is widened (the count stays exact). */
const MAX_RANGES = 100;

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return error === undefined ? 'export failed' : String(error);
}

export class AuditDelivery implements LogRecordProcessorLike {
  /** Records delivered (accepted by the receiver). */
  delivered = 0;
  /** Records dropped from the queue, in total. */
  dropped = 0;
  private readonly queue: unknown[] = [];
  private ledger: UndeliveredLedger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<boolean> | undefined;
  private attempts = 0;
  private stopped = false;

  constructor(private readonly settings: DeliverySettings) {}

  get queued(): number {
    return this.queue.length;
  }

  onEmit(record: unknown): void {
    if (this.stopped) {
      this.drop([record], 'the OTLP sink is shut down');
      return;
    }
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.drop([record], `the delivery queue is full (${this.settings.maxQueueSize} records)`);
      return;
    }
    this.queue.push(record);
    this.schedule(this.queue.length >= this.settings.maxExportBatchSize ? 0 : this.settings.scheduledDelayMs);
  }

  /** The undelivered records not yet recorded, emptied (the sink records them, or puts them back). */
  takeLedger(): UndeliveredLedger | undefined {
    const ledger = this.ledger;
    this.ledger = undefined;
    return ledger;
  }

  restoreLedger(ledger: UndeliveredLedger): void {
    if (this.ledger === undefined) {
      this.ledger = ledger;
      return;
    }
    this.ledger = { ...ledger, count: ledger.count + this.ledger.count, ranges: [...ledger.ranges, ...this.ledger.ranges].slice(0, MAX_RANGES) };
  }

  forceFlush(): Promise<void> {
    return this.drain(Date.now() + this.settings.flushTimeoutMs);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.drain(Date.now() + this.settings.flushTimeoutMs);
    this.stopped = true;
    this.clearTimer();
    if (this.queue.length > 0) this.drop(this.queue.splice(0), 'shut down before they could be delivered');
    try {
      await this.settings.exporter.shutdown();
    } catch (error) {
      auditDiag.debug('the OTLP audit exporter failed to shut down', error);
    }
  }

  /** Exports until the queue is empty, an export fails, or the deadline passes. */
  private async drain(deadline: number): Promise<void> {
    this.clearTimer();
    while (this.queue.length > 0 && Date.now() < deadline) {
      const left = deadline - Date.now();
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => {
        timeout = setTimeout(() => resolve('timeout'), left);
        timeout.unref();
      });
      const outcome = await Promise.race([this.inflight ?? this.exportBatch(), expired]);
      clearTimeout(timeout);
      if (outcome !== true) break;
    }
    if (this.queue.length > 0 && !this.stopped) this.schedule(this.settings.scheduledDelayMs);
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined || this.inflight !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.exportBatch();
    }, delay);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Exports the first batch of the queue once; resolves whether it was delivered. Never rejects. */
  private exportBatch(): Promise<boolean> {
    if (this.inflight !== undefined) return this.inflight;
    if (this.queue.length === 0) return Promise.resolve(true);
    const batch = this.queue.slice(0, this.settings.maxExportBatchSize);
    const run = new Promise<ExportResultLike>((resolve) => {
      try {
        this.settings.exporter.export(batch, resolve);
      } catch (error) {
        resolve({ code: 1, error: error as Error });
      }
    }).then((result) => this.exported(batch.length, result));
    this.inflight = run;
    return run;
  }

  private exported(count: number, result: ExportResultLike): boolean {
    this.inflight = undefined;
    const ok = result.code === 0;
    if (ok) {
      this.queue.splice(0, count);
      this.delivered += count;
      this.attempts = 0;
      if (this.ledger !== undefined) {
        try {
          this.settings.onRecovered();
        } catch (error) {
          auditDiag.error('could not record the undelivered audit records', error);
        }
      }
    } else if (++this.attempts >= this.settings.maxAttempts) {
      this.attempts = 0;
      this.drop(this.queue.splice(0, count), describe(result.error));
    }
    if (this.queue.length > 0 && !this.stopped) {
      const backoff = Math.min(this.settings.initialBackoffMs * 2 ** Math.max(this.attempts - 1, 0), this.settings.maxBackoffMs);
      this.schedule(ok ? 0 : backoff);
    }
    return ok;
  }

  private drop(records: unknown[], why: string): void {
    if (records.length === 0) return;
    const first = this.ledger === undefined;
    const ledger = (this.ledger ??= { count: 0, ranges: [], since: new Date().toISOString(), error: why });
    for (const record of records) {
      const seq = this.settings.seqOf(record);
      const last = ledger.ranges[ledger.ranges.length - 1];
      if (last !== undefined && (seq === last[1] + 1 || ledger.ranges.length >= MAX_RANGES)) last[1] = Math.max(last[1], seq);
      else ledger.ranges.push([seq, seq]);
    }
    ledger.count += records.length;
    this.dropped += records.length;
    if (first) {
      auditDiag.warn(
        `audit records could not be delivered to ${this.settings.describe} (${why}); they stay in the local trail, ` +
          'and an `undelivered` record will name them',
      );
    }
  }
}
