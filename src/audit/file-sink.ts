/*
 * The append-only audit file sink: hash-chained JSON lines in segment files of their own (see
 * `chain-writer.ts`), made durable per record or per interval, with an explicit account of every
 * outage (see `durability.ts`); this file holds its options' checks and its public methods.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_NAME_PREFIX } from './chain-tail';
import { ChainWriter } from './chain-writer';
import { auditDiag } from './diagnostics';
import { nodeFileSystem } from './file-system';
import { FsyncSchedule, Outage, fsyncIntervalOf } from './durability';
import { AuditLockError, ChainLocks, type AuditWriter } from './lock';
import { keyBytes, keyIdOf, type AuditOperation } from './record';
import { SegmentFiles } from './segment-files';
import type { AppendOnlyFileSinkOptions, AuditRecordShipper, AuditSink } from './sink-options';

export { AuditLockError } from './lock';
export type { AppendOnlyFileSinkOptions, AuditDurability, AuditRecordShipper, AuditSink } from './sink-options';

const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_BACKLOG = 10_000;
const DEFAULT_RETRY_INTERVAL_MS = 1000;
const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
let sinksCreated = 0;

function compactStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

/** The chain's base name: the one given (checked), or one unique to this process and sink. */
function baseName(name: string | undefined, writer: AuditWriter, started: number): string {
  if (name !== undefined) {
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new TypeError('AppendOnlyFileSink: `name` may hold only letters, digits, `.`, `_` and `-`');
    }
    return name;
  }
  const host = writer.host.replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
  const instance = sinksCreated++;
  return `${DEFAULT_NAME_PREFIX}${host}-${process.pid}-${compactStamp(started)}${instance > 0 ? `.${instance}` : ''}`;
}

/**
 * The audit trail's file sink. See {@link AppendOnlyFileSinkOptions} for rotation, durability, keys and
 * naming, and the README's "Audit trail" section for the record format and what `mcp-otel audit verify`
 * proves.
 *
 * ```js
 * const sink = new AppendOnlyFileSink({ directory: '/var/log/mcp-audit' });
 * new AuditSpanProcessor({ sink });
 * ```
 */
export class AppendOnlyFileSink implements AuditSink {
  readonly directory: string;
  /** The chain's base name (see {@link AppendOnlyFileSinkOptions.name}). */
  readonly name: string;

  private readonly writer: ChainWriter;
  private readonly fsync: FsyncSchedule;
  private readonly outage: Outage;
  private readonly shipper: AuditRecordShipper | undefined;
  private closed = false;
  private lostAfterClose = 0;

  constructor(options: AppendOnlyFileSinkOptions) {
    if (options === null || typeof options !== 'object' || typeof options.directory !== 'string' || options.directory === '') {
      throw new TypeError('AppendOnlyFileSink: `directory` is required');
    }
    this.directory = resolve(options.directory);
    const fs = { ...nodeFileSystem, ...(options.fs ?? {}) };
    const now = typeof options.now === 'function' ? options.now : Date.now;
    const key = keyBytes(options.hmacKey);
    const fsyncIntervalMs = fsyncIntervalOf(options.durability);
    const retryIntervalMs =
      typeof options.retryIntervalMs === 'number' && options.retryIntervalMs >= 0 ? options.retryIntervalMs : DEFAULT_RETRY_INTERVAL_MS;
    const started = Date.now();
    const writer: AuditWriter = { host: hostname(), pid: process.pid, started: new Date(started).toISOString() };
    this.name = baseName(options.name, writer, started);
    const shipper = options.ship;
    this.shipper = shipper;
    this.writer = new ChainWriter({
      files: new SegmentFiles(fs, this.directory, this.name),
      locks: new ChainLocks(fs, this.directory, writer, randomUUID()),
      writer,
      key,
      alg: key !== undefined ? 'hmac-sha256' : 'sha256',
      keyId: key !== undefined ? keyIdOf(key) : undefined,
      maxSegmentBytes: positive(options.maxSegmentBytes, DEFAULT_MAX_SEGMENT_BYTES),
      rotateDaily: options.rotateDaily !== false,
      adopt: options.adopt ?? options.name === undefined,
      now,
      onRecord:
        shipper === undefined
          ? undefined
          : (record) => {
              try {
                shipper.ship(record);
              } catch (error) {
                auditDiag.error('the second sink refused a record (it stays in the local trail)', error);
              }
            },
    });
    shipper?.attach?.((body) => this.note(body));
    this.fsync = new FsyncSchedule(fsyncIntervalMs, () => this.writer.sync());
    this.outage = new Outage(this.directory, positive(options.maxBacklog, DEFAULT_MAX_BACKLOG), retryIntervalMs, now, () => this.probe(true));

    try {
      this.writer.prepare();
      this.fsync.afterRecord();
    } catch (error) {
      if (error instanceof AuditLockError) throw error;
      this.fail(error);
    }
    this.fsync.start(() => this.syncInterval());
  }

  get healthy(): boolean {
    return !this.closed && this.outage.failure === undefined;
  }

  /** The end of the chain: what an operator may keep elsewhere to prove later that nothing was cut off. */
  head(): { chain: string | undefined; seq: number; hash: string; file: string | undefined } {
    return this.writer.head();
  }

  append(operation: AuditOperation): void {
    if (this.closed) {
      if (this.lostAfterClose++ === 0) auditDiag.warn('a record arrived after the sink was closed; it is not written');
      return;
    }
    if (this.outage.failure !== undefined) {
      this.outage.enqueue(operation);
      this.probe();
      return;
    }
    let written = false;
    try {
      this.writer.writeOperation(operation);
      written = true;
      this.fsync.afterRecord();
    } catch (error) {
      if (!written) this.outage.enqueue(operation);
      this.fail(error);
    }
  }

  probe(force = false): boolean {
    if (this.closed) return false;
    const { outage } = this;
    if (outage.failure === undefined) return true;
    if (!outage.mayProbe(force)) return false;
    try {
      const failure = outage.failure;
      this.writer.writeSystem({
        type: 'outage',
        since: failure.since,
        error: failure.error,
        queued: outage.backlog.length,
        dropped: outage.dropped,
      });
      outage.end();
      while (outage.backlog.length > 0) {
        this.writer.writeOperation(outage.backlog[0]!);
        outage.backlog.shift();
      }
      this.fsync.afterRecord();
    } catch (error) {
      this.fail(error);
      return false;
    }
    outage.stopRetry();
    return true;
  }

  async flush(): Promise<void> {
    if (this.closed) return;
    if (this.outage.failure !== undefined) {
      this.probe(true);
    } else {
      try {
        this.writer.sync();
      } catch (error) {
        this.fail(error);
      }
    }
    await this.shipper?.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const { outage } = this;
    outage.stopRetry();
    this.fsync.stop();
    if (outage.failure !== undefined) this.probe(true);
    if (outage.failure === undefined) {
      try {
        this.shipper?.beforeClose?.();
        this.writer.writeSystem({ type: 'close', reason: 'shutdown' });
        this.writer.sync();
      } catch (error) {
        this.fail(error);
      }
    }
    if (outage.failure !== undefined) {
      auditDiag.error(
        `closing while the trail cannot be written (${outage.failure.error}): ` +
          `${outage.backlog.length + outage.dropped} record(s) are lost`,
      );
      outage.stopRetry();
    }
    this.closed = true;
    this.writer.release();
    await this.shipper?.shutdown();
  }

  /** Writes a record of the second sink's own into the chain, when the trail can be written now. */
  private note(body: { type: 'undelivered'; [field: string]: unknown }): boolean {
    if (this.closed || this.outage.failure !== undefined) return false;
    try {
      this.writer.writeSystem(body);
      this.fsync.afterRecord();
      return true;
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  private syncInterval(): void {
    if (this.closed || this.outage.failure !== undefined) return;
    try {
      this.writer.sync();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.outage.fail(error, this.closed);
  }
}
