/*
 * The append-only audit file sink: hash-chained JSON lines in segment files of their own, opened with
 * O_APPEND and owner-only permissions, never truncated, rewritten or deleted; its own rotation (by size
 * and by UTC day); fsync per record or per interval; a torn tail sealed after a crash; a chain that
 * runs across segments and across restarts; and an explicit account of every outage.
 */
import { diag } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalJson, canonicalSplit, joinSplit, joinSplitWith } from './canonical';
import { DEFAULT_NAME_PREFIX, findChainTail } from './chain-tail';
import { errorCode, errorMessage, nodeFileSystem, type AuditFileSystem } from './file-system';
import { AuditLockError, ChainLocks, type AuditWriter } from './lock';
import {
  AUDIT_FORMAT_VERSION,
  GENESIS_HASH,
  keyBytes,
  keyIdOf,
  canonicalHash,
  segmentFileName,
  sha256Hex,
  type AuditHashAlgorithm,
  type AuditOperation,
} from './record';

export { AuditLockError } from './lock';

const LOG_PREFIX = 'opentelemetry-instrumentation-mcp: audit:';

/** Where audit records go. The span processor calls `append` from `onEnd`: it must never throw. */
export interface AuditSink {
  /** Records one audited operation. Never throws; a record that cannot be written is kept for later. */
  append(operation: AuditOperation): void;
  /** False while records cannot be written (and after `close`). */
  readonly healthy: boolean;
  /**
   * When unhealthy, tries to write again (at most once per retry interval unless `force`); returns
   * whether the sink is healthy afterwards.
   */
  probe(force?: boolean): boolean;
  /** Makes everything appended so far durable (fsync), retrying a failed sink first. */
  flush(): Promise<void>;
  /** Flushes, writes the `close` record and releases the files. */
  close(): Promise<void>;
}

/**
 * When records reach the disk (survive a power loss or a kernel crash). Every record is written to
 * the file (the kernel) before `append` returns, so a crash of the process loses nothing either way.
 * - `'record'`: `fsync` after every record, before `append` returns — before the MCP response is sent.
 * - `{ intervalMs }`: `fsync` every `intervalMs` when something was written; a machine crash loses at
 *   most that window.
 */
export type AuditDurability = 'record' | { intervalMs: number };

export interface AppendOnlyFileSinkOptions {
  /** The directory of the audit trail; created (mode 0700) when missing. Keep it apart from any other log. */
  directory: string;
  /**
   * The chain's base name: segments are `<name>-000001.jsonl`, `<name>-000002.jsonl`… and the writer's
   * lock is `<name>.lock`. Letters, digits, `.`, `_` and `-` only. With an explicit name, a restarted
   * process continues the same chain; a second live writer with that name is refused (the constructor throws).
   * @default `audit-<hostname>-<pid>-<start time>`: unique per process
   */
  name?: string;
  /**
   * A new segment starts when the current one would grow past this many bytes.
   * @default 67108864 (64 MiB)
   */
  maxSegmentBytes?: number;
  /**
   * A new segment starts when the UTC day changes.
   * @default true
   */
  rotateDaily?: boolean;
  /** @default 'record' */
  durability?: AuditDurability;
  /**
   * Keys the chain: hashes become HMAC-SHA-256 with this key, so that someone who can write the files
   * but does not have the key cannot rebuild a chain after editing it. A string is taken as UTF-8.
   */
  hmacKey?: string | Uint8Array;
  /**
   * Continue, at start, the most recent chain in the directory whose writer is gone (crashed or shut
   * down; default-named chains only), so that one chain runs across restarts.
   * @default true without `name`; with `name` the sink continues that name's own chain
   */
  adopt?: boolean;
  /**
   * Records kept in memory while the trail cannot be written; past this, records are counted (in the
   * `outage` record written on recovery) and dropped.
   * @default 10000
   */
  maxBacklog?: number;
  /**
   * While unhealthy, retry writing every this many milliseconds (and `probe()` is rate-limited to
   * this interval). 0: no background retry, and every `probe()` tries.
   * @default 1000
   */
  retryIntervalMs?: number;
  /** Test seam: the file operations to use (defaults to `node:fs`). */
  fs?: Partial<AuditFileSystem>;
  /** Test seam: the clock (milliseconds since the epoch) for record times and daily rotation. */
  now?: () => number;
}

/** The body of a record the sink writes itself (segment header, rotate, close, seal, outage). */
interface SystemRecordBody {
  type: 'segment' | 'rotate' | 'close' | 'seal' | 'outage';
  [field: string]: unknown;
}

const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_BACKLOG = 10_000;
const DEFAULT_RETRY_INTERVAL_MS = 1000;
/** Room for `v`, `seq`, `ts`, `prev`, `hash` and punctuation added to a body when it becomes a line. */
const RECORD_OVERHEAD_BYTES = 220;
/** Records are measured against `maxSegmentBytes` only within this much of it. */
const SIZE_CHECK_MARGIN = 64 * 1024;
const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
const DAY_MS = 86_400_000;
let sinksCreated = 0;

/** A new segment to open: its name when fixed (a name promised by a `rotate` record), why, and after which file. */
interface PendingOpen {
  file: string | undefined;
  reason: string;
  prevFile: string | undefined;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function compactStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
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

  private readonly fs: AuditFileSystem;
  private readonly key: Buffer | undefined;
  private readonly alg: AuditHashAlgorithm;
  private readonly keyId: string | undefined;
  private readonly maxSegmentBytes: number;
  private readonly rotateDaily: boolean;
  private readonly fsyncIntervalMs: number;
  private readonly maxBacklog: number;
  private readonly retryIntervalMs: number;
  private readonly adopt: boolean;
  private readonly explicitName: boolean;
  private readonly now: () => number;
  private readonly writer: AuditWriter;
  private readonly locks: ChainLocks;

  // The chain and the open segment.
  private chain: string | undefined;
  private segment = -1;
  private fileNumber = 0;
  private seq = 0;
  private last = GENESIS_HASH;
  private fd: number | undefined;
  private file: string | undefined;
  /** Bytes of the open segment known to be whole records. */
  private size = 0;
  private day = '';
  /** Start of that day, milliseconds since the epoch (NaN until a segment is entered). */
  private dayStartMs = NaN;
  private opsInSegment = 0;
  private pendingOpen: PendingOpen | undefined;
  private pendingRotate: string | undefined;
  private header: { reason: string; prevFile: string | undefined } | undefined;
  /** The next segment, created before the `rotate` record that names it was written. */
  private next: { fd: number; file: string } | undefined;
  /** The lock of a chain taken over from a writer that is gone, released once handed off. */
  private adoptedLock: string | undefined;
  private lockHeld = false;
  private dirty = false;
  private checkedDirectoryMode = false;
  /** The torn bytes last reported (reported once, however many times sealing them is retried). */
  private reportedTorn: string | undefined;

  // Health.
  private failure: { since: string; error: string } | undefined;
  private backlog: AuditOperation[] = [];
  private dropped = 0;
  private lastProbe = -Infinity;
  private retryTimer: NodeJS.Timeout | undefined;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lostAfterClose = 0;

  constructor(options: AppendOnlyFileSinkOptions) {
    if (options === null || typeof options !== 'object' || typeof options.directory !== 'string' || options.directory === '') {
      throw new TypeError('AppendOnlyFileSink: `directory` is required');
    }
    this.directory = resolve(options.directory);
    this.fs = { ...nodeFileSystem, ...(options.fs ?? {}) };
    this.now = typeof options.now === 'function' ? options.now : Date.now;
    this.key = keyBytes(options.hmacKey);
    this.alg = this.key !== undefined ? 'hmac-sha256' : 'sha256';
    this.keyId = this.key !== undefined ? keyIdOf(this.key) : undefined;
    this.maxSegmentBytes = positive(options.maxSegmentBytes, DEFAULT_MAX_SEGMENT_BYTES);
    this.rotateDaily = options.rotateDaily !== false;
    const durability = options.durability ?? 'record';
    if (durability === 'record') this.fsyncIntervalMs = 0;
    else if (durability !== null && typeof durability === 'object' && Number.isFinite(durability.intervalMs) && durability.intervalMs > 0) {
      this.fsyncIntervalMs = durability.intervalMs;
    } else throw new TypeError("AppendOnlyFileSink: `durability` is 'record' or { intervalMs: <positive number> }");
    this.maxBacklog = positive(options.maxBacklog, DEFAULT_MAX_BACKLOG);
    this.retryIntervalMs =
      typeof options.retryIntervalMs === 'number' && options.retryIntervalMs >= 0 ? options.retryIntervalMs : DEFAULT_RETRY_INTERVAL_MS;
    const started = Date.now();
    this.writer = { host: hostname(), pid: process.pid, started: new Date(started).toISOString() };
    this.explicitName = options.name !== undefined;
    if (options.name !== undefined) {
      if (typeof options.name !== 'string' || !NAME_PATTERN.test(options.name)) {
        throw new TypeError('AppendOnlyFileSink: `name` may hold only letters, digits, `.`, `_` and `-`');
      }
      this.name = options.name;
    } else {
      const host = this.writer.host.replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
      const instance = sinksCreated++;
      this.name = `${DEFAULT_NAME_PREFIX}${host}-${process.pid}-${compactStamp(started)}${instance > 0 ? `.${instance}` : ''}`;
    }
    this.adopt = options.adopt ?? !this.explicitName;
    this.locks = new ChainLocks(this.fs, this.directory, this.writer, randomUUID());

    try {
      this.prepare();
      this.syncIfPerRecord();
    } catch (error) {
      if (error instanceof AuditLockError) throw error;
      this.fail(error);
    }
    if (this.fsyncIntervalMs > 0) {
      this.fsyncTimer = setInterval(() => this.syncInterval(), this.fsyncIntervalMs);
      this.fsyncTimer.unref();
    }
  }

  get healthy(): boolean {
    return !this.closed && this.failure === undefined;
  }

  /** The end of the chain: what an operator may keep elsewhere to prove later that nothing was cut off. */
  head(): { chain: string | undefined; seq: number; hash: string; file: string | undefined } {
    return { chain: this.chain, seq: this.seq, hash: this.last, file: this.file };
  }

  append(operation: AuditOperation): void {
    if (this.closed) {
      if (this.lostAfterClose++ === 0) diag.warn(`${LOG_PREFIX} a record arrived after the sink was closed; it is not written`);
      return;
    }
    if (this.failure !== undefined) {
      this.enqueue(operation);
      this.probe();
      return;
    }
    let written = false;
    try {
      this.writeOperation(operation);
      written = true;
      this.syncIfPerRecord();
    } catch (error) {
      if (!written) this.enqueue(operation);
      this.fail(error);
    }
  }

  probe(force = false): boolean {
    if (this.closed) return false;
    if (this.failure === undefined) return true;
    const now = performance.now();
    if (!force && this.retryIntervalMs > 0 && now - this.lastProbe < this.retryIntervalMs) return false;
    this.lastProbe = now;
    try {
      this.prepare();
      const failure = this.failure;
      this.writeLine({
        type: 'outage',
        since: failure.since,
        error: failure.error,
        queued: this.backlog.length,
        dropped: this.dropped,
      });
      this.failure = undefined;
      const dropped = this.dropped;
      this.dropped = 0;
      diag.warn(
        `${LOG_PREFIX} writing again in ${this.directory} after ${failure.error} since ${failure.since}; ` +
          `${this.backlog.length} record(s) kept in memory are written now${dropped > 0 ? `, ${dropped} were dropped` : ''}`,
      );
      while (this.backlog.length > 0) {
        this.writeOperation(this.backlog[0]!);
        this.backlog.shift();
      }
      this.syncIfPerRecord();
    } catch (error) {
      this.fail(error);
      return false;
    }
    this.stopRetryTimer();
    return true;
  }

  async flush(): Promise<void> {
    if (this.closed) return;
    if (this.failure !== undefined) {
      this.probe(true);
      return;
    }
    try {
      this.syncNow();
    } catch (error) {
      this.fail(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopRetryTimer();
    if (this.fsyncTimer !== undefined) clearInterval(this.fsyncTimer);
    this.fsyncTimer = undefined;
    if (this.failure !== undefined) this.probe(true);
    if (this.failure === undefined) {
      try {
        this.prepare();
        this.writeLine({ type: 'close', reason: 'shutdown' });
        this.syncNow();
      } catch (error) {
        this.fail(error);
      }
    }
    if (this.failure !== undefined) {
      diag.error(
        `${LOG_PREFIX} closing while the trail cannot be written (${this.failure.error}): ` +
          `${this.backlog.length + this.dropped} record(s) are lost`,
      );
      this.stopRetryTimer();
    }
    this.closed = true;
    for (const fd of [this.fd, this.next?.fd]) {
      if (fd !== undefined) {
        try {
          this.fs.closeSync(fd);
        } catch {
          /* already gone */
        }
      }
    }
    this.fd = undefined;
    this.next = undefined;
    if (this.adoptedLock !== undefined) this.locks.release(this.adoptedLock);
    this.adoptedLock = undefined;
    if (this.lockHeld) this.locks.release(this.name);
    this.lockHeld = false;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  private writeOperation(operation: AuditOperation): void {
    this.prepare();
    // Far from the limit, no need to measure the record.
    const near = this.size + SIZE_CHECK_MARGIN > this.maxSegmentBytes;
    const estimate = near ? Buffer.byteLength(canonicalJson(operation)) + RECORD_OVERHEAD_BYTES : 0;
    if (near && this.opsInSegment > 0 && this.size + estimate > this.maxSegmentBytes) this.rotate('size');
    else if (this.rotateDaily && this.opsInSegment > 0 && !this.inSegmentDay(this.now())) this.rotate('day');
    this.writeLine(operation);
  }

  /**
   * Appends one record (the body plus v, seq, ts, prev and hash) to the open segment, whose end is at
   * `at`. Advances the chain only once the whole line is written; throws otherwise (bytes of a partial
   * write are sealed by the next `prepare`).
   */
  private writeLine(body: AuditOperation | SystemRecordBody, prefix = '', at = this.size): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error('audit: no open segment');
    // The record is the body plus the chain fields (and a time when the body has none).
    // In canonical order, as the writer then only checks it.
    const chainFields: Record<string, unknown> = {
      prev: this.last,
      seq: this.seq + 1,
      ts: typeof body.ts === 'string' ? body.ts : new Date(this.now()).toISOString(),
      v: AUDIT_FORMAT_VERSION,
    };
    // One canonical writing serves both the hash (of the record without it) and the line (with it).
    const split = canonicalSplit(body as Record<string, unknown>, chainFields, 'hash');
    const hash = canonicalHash(joinSplit(split), this.key);
    const bytes = Buffer.from(`${prefix}${joinSplitWith(split, 'hash', `"${hash}"`)}\n`, 'utf8');
    writeAll(this.fs, fd, bytes);
    this.seq += 1;
    this.last = hash;
    this.size = at + bytes.length;
    this.dirty = true;
    if (body.type === 'op') this.opsInSegment += 1;
  }

  /**
   * Brings the writer to where a record can be appended: a directory, the lock, a chain, an open
   * segment that still exists, no stray bytes after the last record, a header. Each step is
   * idempotent, so that after any failure the next call resumes where it stopped.
   */
  private prepare(): void {
    for (let step = 0; step < 10; step++) {
      if (this.fd === undefined) {
        this.ensureDirectory();
        this.ensureLock();
        if (this.chain === undefined) this.startChain();
        else this.openSegment();
        continue;
      }
      const stat = this.fs.fstatSync(this.fd);
      if (stat.nlink === 0) {
        this.segmentVanished();
        continue;
      }
      if (stat.size < this.size) {
        diag.error(
          `${LOG_PREFIX} ${this.file} was truncated by someone else from ${this.size} to ${stat.size} bytes; ` +
            'continuing after what is left (verify will report the records that were cut)',
        );
        this.size = stat.size;
      }
      if (stat.size > this.size) this.seal(stat.size);
      if (this.pendingRotate !== undefined) {
        this.rotate(this.pendingRotate);
        continue;
      }
      if (this.header !== undefined) this.writeHeader();
      return;
    }
    throw new Error('audit: could not prepare a segment');
  }

  private writeHeader(): void {
    const header = this.header!;
    this.writeLine({
      type: 'segment',
      chain: this.chain,
      segment: this.segment,
      file: this.file,
      prevFile: header.prevFile,
      alg: this.alg,
      keyId: this.keyId,
      writer: this.writer,
      reason: header.reason,
    });
    this.header = undefined;
    if (this.adoptedLock !== undefined) {
      // The chain taken over now continues here: its old writer's lock has done its job.
      this.locks.release(this.adoptedLock);
      this.adoptedLock = undefined;
    }
  }

  /** Ends the open segment with a `rotate` record naming the next one, and continues there. */
  private rotate(reason: string): void {
    this.pendingRotate = reason;
    this.next ??= this.createOwnSegmentFile();
    this.writeLine({ type: 'rotate', next: this.next.file, reason });
    this.pendingRotate = undefined;
    const oldFd = this.fd!;
    const prevFile = this.file;
    this.fd = this.next.fd;
    this.file = this.next.file;
    this.next = undefined;
    this.enterSegment({ reason, prevFile });
    try {
      this.fs.fsyncSync(oldFd);
    } finally {
      try {
        this.fs.closeSync(oldFd);
      } catch {
        /* ignore */
      }
    }
    this.writeHeader();
  }

  /** Whether `now` falls in the UTC day of the open segment (`isoDay(now) === day`, without formatting a date per record). */
  private inSegmentDay(now: number): boolean {
    const ms = Math.trunc(now); // what `Date` does with a fractional time
    return (ms >= this.dayStartMs && ms < this.dayStartMs + DAY_MS) || isoDay(now) === this.day;
  }

  private enterSegment(header: { reason: string; prevFile: string | undefined }): void {
    this.size = 0;
    this.opsInSegment = 0;
    this.segment += 1;
    const now = this.now();
    this.day = isoDay(now);
    // The UTC day of `day` in milliseconds (a day is 86 400 000 ms in UTC: no leap seconds in ECMAScript time).
    this.dayStartMs = Math.floor(Math.trunc(now) / DAY_MS) * DAY_MS;
    this.header = header;
  }

  /** Opens the segment a failure or a vanished file left pending. */
  private openSegment(): void {
    const pending = this.pendingOpen ?? { file: undefined, reason: 'recreated', prevFile: this.file };
    let opened: { fd: number; file: string };
    if (pending.file !== undefined) {
      opened = { fd: this.createSegmentFile(pending.file, true)!, file: pending.file };
    } else {
      opened = this.createOwnSegmentFile();
    }
    this.pendingOpen = undefined;
    this.fd = opened.fd;
    this.file = opened.file;
    this.enterSegment({ reason: pending.reason, prevFile: pending.prevFile });
  }

  /** Creates the next file of this writer's own base name. */
  private createOwnSegmentFile(): { fd: number; file: string } {
    for (let attempt = 0; attempt < 1000; attempt++) {
      this.fileNumber += 1;
      const file = segmentFileName(this.name, this.fileNumber);
      const fd = this.createSegmentFile(file, false);
      if (fd !== undefined) return { fd, file };
    }
    throw new Error(`audit: no free segment name for ${this.name} in ${this.directory}`);
  }

  /**
   * Creates `file` exclusively (`O_CREAT | O_EXCL | O_APPEND`, mode 0600). An existing empty file (left
   * by a crash right after it was created) is taken, and so is an existing `required` one (a name
   * promised by a rotate record, holding no record); otherwise `undefined`: try another name.
   */
  private createSegmentFile(file: string, required: boolean): number | undefined {
    const path = join(this.directory, file);
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'ax', 0o600);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      // A name promised by a rotate record was created by a writer that stopped before its header
      // was whole: continue it (anything in it is sealed first). Any other existing name: try another.
      if (!required && this.fs.statSync(path).size !== 0) return undefined;
      fd = this.fs.openSync(path, 'a', 0o600);
    }
    this.syncDirectory();
    return fd;
  }

  /** Someone removed the open segment (or its directory): record it, and continue in a new segment. */
  private segmentVanished(): void {
    const gone = this.file;
    diag.error(
      `${LOG_PREFIX} the segment ${gone ?? '?'} was removed from ${this.directory} while being written; ` +
        'continuing in a new segment (verify will report the records that were removed)',
    );
    try {
      this.fs.closeSync(this.fd!);
    } catch {
      /* ignore */
    }
    this.fd = undefined;
    if (this.next !== undefined) {
      try {
        this.fs.closeSync(this.next.fd);
      } catch {
        /* ignore */
      }
      this.next = undefined;
    }
    this.pendingRotate = undefined;
    this.header = undefined;
    this.pendingOpen = { file: undefined, reason: 'recreated', prevFile: gone };
  }

  /** Bytes past the last whole record (a partial write, or another writer): seal them with a record that names them. */
  private seal(end: number): void {
    const start = this.size;
    const torn = this.readRange(join(this.directory, this.file!), start, end);
    const newline = torn.length > 0 && torn[torn.length - 1] !== 0x0a ? '\n' : '';
    const where = `${this.file}@${start}`;
    if (this.reportedTorn !== where) {
      this.reportedTorn = where;
      diag.warn(
        `${LOG_PREFIX} ${torn.length} byte(s) at offset ${start} of ${this.file} are not a whole record ` +
          '(a write cut short, or another writer); sealed with a `seal` record, never overwritten',
      );
    }
    // The seal goes after the torn bytes; `size` moves past both only once it is written.
    this.writeLine({ type: 'seal', torn: { offset: start, length: torn.length, sha256: sha256Hex(torn) } }, newline, end);
  }

  private readRange(path: string, start: number, end: number): Buffer {
    const fd = this.fs.openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(end - start);
      let read = 0;
      while (read < buffer.length) {
        const n = this.fs.readSync(fd, buffer, read, buffer.length - read, start + read);
        if (n <= 0) break;
        read += n;
      }
      return buffer.subarray(0, read);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Starting a chain: continue the last one in the directory, or begin a new one

  private startChain(): void {
    const found = findChainTail({
      fs: this.fs,
      directory: this.directory,
      name: this.name,
      adopt: this.adopt,
      key: this.key,
      alg: this.alg,
      keyId: this.keyId,
      locks: this.locks,
    });
    this.fileNumber = Math.max(this.fileNumber, found.ownFileNumber);
    const tail = found.tail;
    if (tail === undefined) {
      this.chain = randomUUID();
      this.segment = -1;
      this.seq = 0;
      this.last = GENESIS_HASH;
      this.pendingOpen = { file: undefined, reason: 'start', prevFile: undefined };
      return;
    }
    this.adoptedLock = found.adoptedLock;
    // Open first, so that a failure leaves nothing half set (the next attempt starts over).
    const fd = tail.last.type === 'rotate' ? undefined : this.fs.openSync(join(this.directory, tail.file), 'a', 0o600);
    this.chain = tail.header.chain as string;
    this.segment = tail.header.segment as number;
    this.seq = tail.last.seq;
    this.last = tail.last.hash;
    this.file = tail.file;
    if (fd === undefined) {
      // The writer named its next segment and stopped before writing it: that name is the one to use.
      this.pendingOpen = { file: tail.last.next as string, reason: 'restart', prevFile: tail.file };
      return;
    }
    this.fd = fd;
    this.size = tail.goodEnd;
    this.pendingRotate = 'restart';
  }

  // ---------------------------------------------------------------------------------------------
  // Directory, locks, fsync

  private ensureDirectory(): void {
    this.fs.mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    if (!this.checkedDirectoryMode) {
      this.checkedDirectoryMode = true;
      try {
        const mode = this.fs.statSync(this.directory).mode & 0o777;
        if ((mode & 0o077) !== 0) {
          diag.warn(`${LOG_PREFIX} ${this.directory} is accessible to others (mode ${mode.toString(8)}); 0700 is recommended`);
        }
      } catch {
        /* reported by the next write */
      }
    }
  }

  private syncDirectory(): void {
    try {
      const fd = this.fs.openSync(this.directory, 'r');
      try {
        this.fs.fsyncSync(fd);
      } finally {
        this.fs.closeSync(fd);
      }
    } catch {
      // Not every platform can fsync a directory; the file's own fsync still holds its contents.
    }
  }

  private syncNow(): void {
    if (this.fd !== undefined && this.dirty) {
      this.fs.fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  private syncIfPerRecord(): void {
    if (this.fsyncIntervalMs === 0) this.syncNow();
  }

  private syncInterval(): void {
    if (this.closed || this.failure !== undefined) return;
    try {
      this.syncNow();
    } catch (error) {
      this.fail(error);
    }
  }

  private ensureLock(): void {
    if (this.lockHeld && this.locks.holds(this.name)) return;
    this.lockHeld = false;
    this.locks.take(this.name, true);
    this.lockHeld = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Failures

  private enqueue(operation: AuditOperation): void {
    if (this.backlog.length < this.maxBacklog) {
      this.backlog.push(operation);
      return;
    }
    if (this.dropped++ === 0) {
      diag.error(`${LOG_PREFIX} ${this.maxBacklog} records are waiting to be written; further ones are dropped (and counted in the trail)`);
    }
  }

  private fail(error: unknown): void {
    const code = errorCode(error);
    if (this.failure === undefined) {
      this.failure = { since: new Date(this.now()).toISOString(), error: code };
      diag.error(
        `${LOG_PREFIX} cannot write the audit trail in ${this.directory} (${code}: ${errorMessage(error)}); ` +
          `records are kept in memory (up to ${this.maxBacklog}) and written when it can write again`,
      );
    } else {
      diag.debug(`${LOG_PREFIX} still cannot write (${code}: ${errorMessage(error)})`);
    }
    if (this.retryTimer === undefined && this.retryIntervalMs > 0 && !this.closed) {
      this.retryTimer = setInterval(() => this.probe(true), this.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  private stopRetryTimer(): void {
    if (this.retryTimer !== undefined) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

/** Writes all of `bytes` (a regular file may take fewer bytes per call, e.g. when the disk fills). */
function writeAll(fs: AuditFileSystem, fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const n = fs.writeSync(fd, bytes, offset, bytes.length - offset);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += n;
  }
}
