/*
 * The writing end of the JSON-line log: asynchronous, buffered writes through `sonic-boom` (the
 * stream pino uses), to standard error or a file, with `pino-roll` rotating a file when asked.
 *
 * - Lines are handed over whole and written in order by one stream, so they are never split or
 *   interleaved with each other. Each write to stderr is at most PIPE_BUF (4096) bytes of whole lines, so a
 *   pipe keeps lines whole even next to the application's own stderr output (a single line longer
 *   than that, possible only with content capture, is the exception).
 * - Lines are coalesced here into one write per batch (64 KiB for a file, at most PIPE_BUF for stderr,
 *   or 20 ms after a batch's first line): a busy server pays a string append per line, not a write.
 *   The batch is built here, not in sonic-boom's buffer, because sonic-boom measures the byte length
 *   of its whole buffered string on every write (quadratic in the batch). Rotated files are written
 *   line by line (pino-roll measures file sizes by the writes it sees).
 * - `flush()` waits until every line handed over so far is written; at process exit (including
 *   `process.exit()`) whatever is still buffered is written synchronously.
 * - Errors of the destination (EACCES, ENOSPC, a missing directory…) are reported once through
 *   `diag` and never thrown at the caller. Lines wait in memory while the destination fails, up to
 *   `maxBufferBytes`; lines beyond that are dropped and counted.
 */
import { appendFileSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SonicBoom, SonicBoomOpts } from 'sonic-boom';
import { safeMkdir } from '../safe-mkdir';
import { logDiag } from './diag';
import type { ResolvedDestination } from './destination';
import { pinoRollOptions, type JsonLogRotation, type PinoRollOptions } from './rotation';

/** Linux's PIPE_BUF: writes of at most this size to a pipe are atomic. */
const PIPE_BUF = 4096;
/**
 * The largest write to a file: files are opened for appending by this one writer, so any size keeps
 * lines whole; large writes keep up with a busy process (4 KiB writes, one thread-pool round trip
 * each, fell behind at 64 calls in flight).
 */
const FILE_MAX_WRITE = 1024 * 1024;
/** How long the synchronous flush at exit keeps retrying a destination that says EAGAIN. */
const EXIT_RETRY_MS = 1000;
/**
 * Lines are coalesced: a batch goes to the stream when the next line would take it past this many
 * bytes (at most the stream's `maxWrite`), or {@link COALESCE_MS} after its first line, whichever
 * comes first. One write per batch instead of one per line: on a busy server a line then costs its
 * formatting and a string append, not a thread-pool round trip.
 */
const STDERR_BATCH_BYTES = PIPE_BUF;
const FILE_BATCH_BYTES = 64 * 1024;
const COALESCE_MS = 20;

export interface SinkOptions {
  rotation: JsonLogRotation | undefined;
  mkdir: boolean;
  maxBufferBytes: number;
  timeoutMillis: number;
}

interface Waiter {
  target: number;
  resolve: () => void;
}

type PinoRoll = (options: PinoRollOptions) => Promise<SonicBoom>;

/** Sinks with lines that must reach their destination if the process exits now. */
const liveSinks = new Set<LineSink>();
let exitHookInstalled = false;

function flushAllAtExit(): void {
  for (const sink of liveSinks) sink.flushSync();
}

/** sonic-boom, loaded with the first sink: requiring the package's root loads none of the log's dependencies. */
function newSonicBoom(options: SonicBoomOpts): SonicBoom {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SonicBoom: Stream } = require('sonic-boom') as typeof import('sonic-boom');
  return new Stream(options);
}

function byteLength(line: string): number {
  return Buffer.byteLength(line, 'utf8');
}

export class LineSink {
  private stream: SonicBoom | undefined;
  /** Lines waiting for the stream to open (a rotated file opens asynchronously). */
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Bytes handed to the stream, and bytes it reported written. */
  private submitted = 0;
  private written = 0;
  private waiters: Waiter[] = [];
  private readyWaiters: Array<() => void> = [];
  private failing = false;
  private broken = false;
  private closed = false;
  private reportedError = false;
  private reportedDrop = false;
  private exitDeadline = 0;
  /** Hands over a batch that stayed below its size ({@link COALESCE_MS}). */
  private coalesceTimer: NodeJS.Timeout | undefined = undefined;
  /** Whole lines not yet handed to the stream, and their size (0: lines go to the stream one by one). */
  private batch = '';
  private batchBytes = 0;
  private batchLimit = 0;
  /** Lines dropped because the destination could not take them. */
  dropped = 0;

  constructor(
    private readonly destination: ResolvedDestination,
    private readonly options: SinkOptions,
  ) {
    const retryEAGAIN = (): boolean => this.exitDeadline === 0 || Date.now() < this.exitDeadline;
    if (destination.kind === 'stderr') {
      this.batchLimit = STDERR_BATCH_BYTES;
      this.attach(newSonicBoom({ fd: 2, maxWrite: PIPE_BUF, retryEAGAIN }));
    } else if (options.rotation === undefined) {
      // Opened synchronously, once, at start-up: the exit flush can then always write.
      let fd: number;
      try {
        if (options.mkdir) safeMkdir(dirname(destination.path), 0o777);
        fd = openSync(destination.path, 'a');
      } catch (error) {
        this.fail(error);
        return;
      }
      this.batchLimit = FILE_BATCH_BYTES;
      this.attach(newSonicBoom({ fd, maxWrite: FILE_MAX_WRITE, retryEAGAIN }));
    } else {
      // The directory is made here, not by pino-roll (a recursive mkdir: see ../safe-mkdir).
      const rollOptions = pinoRollOptions(destination.path, options.rotation, false);
      try {
        if (options.mkdir) safeMkdir(dirname(destination.path), 0o777);
      } catch (error) {
        this.fail(error);
        return;
      }
      rollOptions.retryEAGAIN = retryEAGAIN;
      rollOptions.maxWrite = FILE_MAX_WRITE;
      // No coalescing here: pino-roll counts a file's size from the writes it sees, and counts what a
      // flush writes to the old file just before rotating as the new file's; large batches would
      // make it rotate files well before their size.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pinoRoll = require('pino-roll') as PinoRoll;
      pinoRoll(rollOptions).then(
        (stream) => {
          if (this.closed) {
            stream.end();
            return;
          }
          // Lines go to the stream once its first file is open, so that the exit flush can write them.
          stream.once('ready', () => this.attach(stream));
          stream.on('error', (error: Error) => {
            if (this.stream === undefined) this.fail(error);
          });
        },
        (error: unknown) => this.fail(error),
      );
    }
    liveSinks.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', flushAllAtExit);
    }
  }

  private attach(stream: SonicBoom): void {
    if (this.stream !== undefined) return;
    this.stream = stream;
    stream.on('write', (n: number) => {
      this.failing = false;
      this.written += n;
      if (this.waiters.length > 0) this.release(false);
    });
    stream.on('error', (error: Error) => {
      this.failing = true;
      this.report(error);
      this.release(true);
    });
    // The stream wrote all it had while lines wait in a batch: hand it over soon (at once when
    // someone waits for it).
    stream.on('drain', () => {
      if (this.written >= this.submitted) return;
      if (this.waiters.length > 0) this.writeOut();
      else this.scheduleWriteOut();
    });
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const line of pending) {
      this.submitted += byteLength(line);
      stream.write(line);
    }
    if (pending.length > 0) this.scheduleWriteOut();
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  private scheduleWriteOut(): void {
    if (this.coalesceTimer !== undefined) return;
    this.coalesceTimer = setTimeout(() => {
      this.coalesceTimer = undefined;
      this.writeOut();
    }, COALESCE_MS);
    // The exit flush writes whatever a pending timer would have.
    this.coalesceTimer.unref();
  }

  /** Hands the batch to the stream, which writes it at once or after the write in progress. */
  private handOver(stream: SonicBoom): void {
    const batch = this.batch;
    if (batch === '') return;
    this.batch = '';
    this.batchBytes = 0;
    stream.write(batch);
  }

  /**
   * Hands the waiting batch to the stream now. No stream here has a `minLength` (the batches are made
   * here), so the stream writes what it is given at once: `stream.flush()` would do nothing.
   */
  private writeOut(): void {
    const stream = this.stream;
    if (stream === undefined || this.written >= this.submitted || this.closed) return;
    try {
      this.handOver(stream);
    } catch (error) {
      this.report(error);
    }
  }

  /** Resolves the flush waiters whose lines are written (all of them when the destination failed). */
  private release(all: boolean): void {
    const keep: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (all || waiter.target <= this.written) waiter.resolve();
      else keep.push(waiter);
    }
    this.waiters = keep;
  }

  private report(error: unknown): void {
    if (this.reportedError) return;
    this.reportedError = true;
    const where = this.destination.kind === 'stderr' ? 'standard error' : this.destination.path;
    logDiag.error(`cannot write to ${where}; lines are kept in memory (up to ${this.options.maxBufferBytes} bytes) and retried`, error);
  }

  /** The destination cannot be opened: report once; lines are dropped from now on. */
  private fail(error: unknown): void {
    this.broken = true;
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    liveSinks.delete(this);
    if (!this.reportedError) {
      this.reportedError = true;
      const where = this.destination.kind === 'stderr' ? 'standard error' : this.destination.path;
      logDiag.error(`cannot open ${where}; MCP operations will not be logged`, error);
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    this.release(true);
  }

  private drop(): void {
    this.dropped++;
    if (!this.reportedDrop) {
      this.reportedDrop = true;
      logDiag.warn(`the destination is not keeping up; dropping lines beyond ${this.options.maxBufferBytes} buffered bytes`);
    }
  }

  /** Hands one line (ending in a newline) to the destination. Never throws. */
  write(line: string): void {
    if (this.closed) return;
    if (this.broken) {
      this.dropped++;
      return;
    }
    const stream = this.stream;
    if (stream === undefined) {
      const size = byteLength(line);
      if (this.pendingBytes + size > this.options.maxBufferBytes) return this.drop();
      this.pending.push(line);
      this.pendingBytes += size;
      return;
    }
    const size = byteLength(line);
    if (this.submitted - this.written + size > this.options.maxBufferBytes) return this.drop();
    this.submitted += size;
    if (this.batchLimit === 0) {
      stream.write(line);
      return;
    }
    try {
      if (this.batchBytes + size > this.batchLimit) this.handOver(stream);
    } catch (error) {
      this.report(error);
    }
    this.batch += line;
    this.batchBytes += size;
    if (this.coalesceTimer === undefined) this.scheduleWriteOut();
  }

  /** Resolves once every line handed over so far is written, the destination failed, or the time is up. */
  flush(): Promise<void> {
    if (this.broken) return Promise.resolve();
    return this.bounded(async () => {
      if (this.stream === undefined) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
      const stream = this.stream;
      if (stream === undefined || this.written >= this.submitted) return;
      const done = new Promise<void>((resolve) => this.waiters.push({ target: this.submitted, resolve }));
      // After an error nothing is being written: an empty write makes the stream try again.
      if (this.failing) stream.write('');
      this.writeOut();
      await done;
    });
  }

  private bounded(work: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logDiag.warn(`flush still incomplete after ${this.options.timeoutMillis} ms`);
        resolve();
      }, this.options.timeoutMillis);
      timer.unref();
    });
    return Promise.race([work(), timeout]).finally(() => clearTimeout(timer));
  }

  /** Flushes, then closes the destination (standard error itself stays open). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    liveSinks.delete(this);
    if (this.coalesceTimer !== undefined) clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined) {
      try {
        stream.end();
      } catch (error) {
        logDiag.debug(`close failed`, error);
      }
    }
  }

  /** Writes whatever is buffered, synchronously: at process exit. */
  flushSync(): void {
    if (this.closed || this.broken) return;
    this.exitDeadline = Date.now() + EXIT_RETRY_MS;
    try {
      if (this.stream !== undefined) {
        this.handOver(this.stream);
        this.stream.flushSync();
      } else if (this.pending.length > 0 && this.destination.kind === 'file') {
        // The rotated file is still opening: its lines go to the configured path itself.
        appendFileSync(this.destination.path, this.pending.join(''));
        this.pending = [];
      }
    } catch (error) {
      this.report(error);
    }
  }
}
