/*
 * The writer of one hash chain: where it starts (a new chain, registered, or the tail of one left in
 * the directory), the open segment and its header, rotation by size and by UTC day, torn bytes sealed,
 * a segment removed under it replaced — each step resumable after any failure.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson, canonicalSplit, joinSplit, joinSplitWith } from './canonical';
import { registerChain } from './chain-registry';
import { findChainTail } from './chain-tail';
import { auditDiag } from './diagnostics';
import type { ChainLocks, AuditWriter } from './lock';
import { AUDIT_FORMAT_VERSION, GENESIS_HASH, canonicalHash, sha256Hex, type AuditHashAlgorithm, type AuditOperation } from './record';
import { writeAll, type OpenSegment, type SegmentFiles } from './segment-files';

/** The body of a record the sink writes itself (segment header, rotate, close, seal, outage). */
export interface SystemRecordBody {
  type: 'segment' | 'rotate' | 'close' | 'seal' | 'outage' | 'undelivered';
  [field: string]: unknown;
}

/** A record as it was written to the trail: its line (canonical JSON, no newline) and its chain fields. */
export interface WrittenRecord {
  line: string;
  chain: string;
  /** The chain's base name (the segment files' prefix). */
  name: string;
  seq: number;
  prev: string;
  hash: string;
  type: string;
  ts: string;
  keyId: string | undefined;
}

/** What a chain writer is given. */
export interface ChainWriterSettings {
  files: SegmentFiles;
  locks: ChainLocks;
  writer: AuditWriter;
  key: Buffer | undefined;
  alg: AuditHashAlgorithm;
  keyId: string | undefined;
  maxSegmentBytes: number;
  rotateDaily: boolean;
  adopt: boolean;
  now: () => number;
  /** Told of every record once it is written (a second sink, such as OTLP). Must not throw. */
  onRecord?: (record: WrittenRecord) => void;
}

/** Room for `v`, `seq`, `ts`, `prev`, `hash` and punctuation added to a body when it becomes a line. */
const RECORD_OVERHEAD_BYTES = 220;
/** Records are measured against `maxSegmentBytes` only within this much of it. */
const SIZE_CHECK_MARGIN = 64 * 1024;
const DAY_MS = 86_400_000;

/** A new segment to open: its name when fixed (a name promised by a `rotate` record), why, and after which file. */
interface PendingOpen {
  file: string | undefined;
  reason: string;
  prevFile: string | undefined;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class ChainWriter {
  // The chain and the open segment.
  private chain: string | undefined;
  private segment = -1;
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
  /** A new chain not yet in the directory's registry (entered before its first header). */
  private unregistered = false;
  /** The next segment, created before the `rotate` record that names it was written. */
  private next: OpenSegment | undefined;
  /** The lock of a chain taken over from a writer that is gone, released once handed off. */
  private adoptedLock: string | undefined;
  private lockHeld = false;
  private dirty = false;
  /** The torn bytes last reported (reported once, however many times sealing them is retried). */
  private reportedTorn: string | undefined;

  constructor(private readonly settings: ChainWriterSettings) {}

  /** The end of the chain. */
  head(): { chain: string | undefined; seq: number; hash: string; file: string | undefined } {
    return { chain: this.chain, seq: this.seq, hash: this.last, file: this.file };
  }

  /** Appends an operation record, rotating first when the segment is full or its day is over. */
  writeOperation(operation: AuditOperation): void {
    this.prepare();
    const { maxSegmentBytes, rotateDaily, now } = this.settings;
    // Far from the limit, no need to measure the record.
    const near = this.size + SIZE_CHECK_MARGIN > maxSegmentBytes;
    const estimate = near ? Buffer.byteLength(canonicalJson(operation)) + RECORD_OVERHEAD_BYTES : 0;
    if (near && this.opsInSegment > 0 && this.size + estimate > maxSegmentBytes) this.rotate('size');
    else if (rotateDaily && this.opsInSegment > 0 && !this.inSegmentDay(now())) this.rotate('day');
    this.writeLine(operation);
  }

  /** Appends a record the sink writes itself (outage, close), after preparing the segment. */
  writeSystem(body: SystemRecordBody): void {
    this.prepare();
    this.writeLine(body);
  }

  /**
   * Brings the writer to where a record can be appended: a directory, the lock, a chain, an open
   * segment that still exists, no stray bytes after the last record, a header. Each step is
   * idempotent, so that after any failure the next call resumes where it stopped.
   */
  prepare(): void {
    const { files } = this.settings;
    for (let step = 0; step < 10; step++) {
      if (this.fd === undefined) {
        files.ensureDirectory();
        this.ensureLock();
        if (this.chain === undefined) this.startChain();
        else this.openSegment();
        continue;
      }
      const stat = files.fs.fstatSync(this.fd);
      if (stat.nlink === 0) {
        this.segmentVanished();
        continue;
      }
      if (stat.size < this.size) {
        auditDiag.error(
          `${this.file} was truncated by someone else from ${this.size} to ${stat.size} bytes; ` +
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

  /** fsync of the open segment, when something was written since the last one. */
  sync(): void {
    if (this.fd !== undefined && this.dirty) {
      this.settings.files.fs.fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /** Closes the files and releases the locks. */
  release(): void {
    const { files, locks } = this.settings;
    files.closeQuietly(this.fd);
    files.closeQuietly(this.next?.fd);
    this.fd = undefined;
    this.next = undefined;
    if (this.adoptedLock !== undefined) locks.release(this.adoptedLock);
    this.adoptedLock = undefined;
    if (this.lockHeld) locks.release(files.name);
    this.lockHeld = false;
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
      ts: typeof body.ts === 'string' ? body.ts : new Date(this.settings.now()).toISOString(),
      v: AUDIT_FORMAT_VERSION,
    };
    // One canonical writing serves both the hash (of the record without it) and the line (with it).
    const split = canonicalSplit(body as Record<string, unknown>, chainFields, 'hash');
    const hash = canonicalHash(joinSplit(split), this.settings.key);
    const line = joinSplitWith(split, 'hash', `"${hash}"`);
    const bytes = Buffer.from(`${prefix}${line}\n`, 'utf8');
    writeAll(this.settings.files.fs, fd, bytes);
    const prev = this.last;
    this.seq += 1;
    this.last = hash;
    this.size = at + bytes.length;
    this.dirty = true;
    if (body.type === 'op') this.opsInSegment += 1;
    const { onRecord, files, keyId } = this.settings;
    if (onRecord !== undefined) {
      onRecord({ line, chain: this.chain!, name: files.name, seq: this.seq, prev, hash, type: body.type, ts: chainFields.ts as string, keyId });
    }
  }

  private writeHeader(): void {
    const header = this.header!;
    const { files, alg, keyId, writer, locks, now } = this.settings;
    if (this.unregistered) {
      // A new chain enters the directory's history before its first record.
      registerChain(files.fs, files.directory, { chain: this.chain!, file: this.file!, name: files.name, ts: new Date(now()).toISOString() });
      this.unregistered = false;
    }
    this.writeLine({
      type: 'segment',
      chain: this.chain,
      segment: this.segment,
      file: this.file,
      prevFile: header.prevFile,
      alg,
      keyId,
      writer,
      reason: header.reason,
    });
    this.header = undefined;
    if (this.adoptedLock !== undefined) {
      // The chain taken over now continues here: its old writer's lock has done its job.
      locks.release(this.adoptedLock);
      this.adoptedLock = undefined;
    }
  }

  /** Ends the open segment with a `rotate` record naming the next one, and continues there. */
  private rotate(reason: string): void {
    const { files } = this.settings;
    this.pendingRotate = reason;
    this.next ??= files.createOwn();
    this.writeLine({ type: 'rotate', next: this.next.file, reason });
    this.pendingRotate = undefined;
    const oldFd = this.fd!;
    const prevFile = this.file;
    this.fd = this.next.fd;
    this.file = this.next.file;
    this.next = undefined;
    this.enterSegment({ reason, prevFile });
    try {
      files.fs.fsyncSync(oldFd);
    } finally {
      files.closeQuietly(oldFd);
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
    const now = this.settings.now();
    this.day = isoDay(now);
    // The UTC day of `day` in milliseconds (a day is 86 400 000 ms in UTC: no leap seconds in ECMAScript time).
    this.dayStartMs = Math.floor(Math.trunc(now) / DAY_MS) * DAY_MS;
    this.header = header;
  }

  /** Opens the segment a failure or a vanished file left pending. */
  private openSegment(): void {
    const { files } = this.settings;
    const pending = this.pendingOpen ?? { file: undefined, reason: 'recreated', prevFile: this.file };
    const opened = pending.file !== undefined ? { fd: files.create(pending.file, true)!, file: pending.file } : files.createOwn();
    this.pendingOpen = undefined;
    this.fd = opened.fd;
    this.file = opened.file;
    this.enterSegment({ reason: pending.reason, prevFile: pending.prevFile });
  }

  /** Someone removed the open segment (or its directory): record it, and continue in a new segment. */
  private segmentVanished(): void {
    const { files } = this.settings;
    const gone = this.file;
    auditDiag.error(
      `the segment ${gone ?? '?'} was removed from ${files.directory} while being written; ` +
        'continuing in a new segment (verify will report the records that were removed)',
    );
    files.closeQuietly(this.fd);
    this.fd = undefined;
    if (this.next !== undefined) {
      files.closeQuietly(this.next.fd);
      this.next = undefined;
    }
    this.pendingRotate = undefined;
    this.header = undefined;
    this.pendingOpen = { file: undefined, reason: 'recreated', prevFile: gone };
  }

  /** Bytes past the last whole record (a partial write, or another writer): seal them with a record that names them. */
  private seal(end: number): void {
    const start = this.size;
    const torn = this.settings.files.readRange(this.file!, start, end);
    const newline = torn.length > 0 && torn[torn.length - 1] !== 0x0a ? '\n' : '';
    const where = `${this.file}@${start}`;
    if (this.reportedTorn !== where) {
      this.reportedTorn = where;
      auditDiag.warn(
        `${torn.length} byte(s) at offset ${start} of ${this.file} are not a whole record ` +
          '(a write cut short, or another writer); sealed with a `seal` record, never overwritten',
      );
    }
    // The seal goes after the torn bytes; `size` moves past both only once it is written.
    this.writeLine({ type: 'seal', torn: { offset: start, length: torn.length, sha256: sha256Hex(torn) } }, newline, end);
  }

  /** Starts the chain: continues the last one in the directory, or begins (and registers) a new one. */
  private startChain(): void {
    const { files, locks, key, alg, keyId, adopt } = this.settings;
    const found = findChainTail({ fs: files.fs, directory: files.directory, name: files.name, adopt, key, alg, keyId, locks });
    files.fileNumber = Math.max(files.fileNumber, found.ownFileNumber);
    const tail = found.tail;
    if (tail === undefined) {
      this.chain = randomUUID();
      this.segment = -1;
      this.seq = 0;
      this.last = GENESIS_HASH;
      this.unregistered = true;
      this.pendingOpen = { file: undefined, reason: 'start', prevFile: undefined };
      return;
    }
    this.adoptedLock = found.adoptedLock;
    // Open first, so that a failure leaves nothing half set (the next attempt starts over).
    const fd = tail.last.type === 'rotate' ? undefined : files.fs.openSync(files.path(tail.file), 'a', 0o600);
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

  private ensureLock(): void {
    const { locks, files } = this.settings;
    if (this.lockHeld && locks.holds(files.name)) return;
    this.lockHeld = false;
    locks.take(files.name, true);
    this.lockHeld = true;
  }
}
