/*
 * When written records reach the disk (fsync after every record, or on an interval), and what the
 * sink does while it cannot write: the outage it records, the backlog of records kept in memory (up to
 * a bound, then counted and dropped) and the timer that retries.
 */
import { auditDiag } from './diagnostics';
import { errorCode, errorMessage } from './file-system';
import type { AuditOperation } from './record';
import type { AuditDurability } from './sink-options';

/** The fsync interval a durability option asks for (0: after every record). Throws for anything else. */
export function fsyncIntervalOf(durability: AuditDurability | undefined): number {
  const value = durability ?? 'record';
  if (value === 'record') return 0;
  if (value !== null && typeof value === 'object' && Number.isFinite(value.intervalMs) && value.intervalMs > 0) return value.intervalMs;
  throw new TypeError("AppendOnlyFileSink: `durability` is 'record' or { intervalMs: <positive number> }");
}

/** Syncs after every record (interval 0), or every `intervalMs` through an unref'd timer. */
export class FsyncSchedule {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly intervalMs: number,
    private readonly sync: () => void,
  ) {}

  /** Starts the interval timer (when there is an interval), which calls `onTimer`. */
  start(onTimer: () => void): void {
    if (this.intervalMs > 0 && this.timer === undefined) {
      this.timer = setInterval(onTimer, this.intervalMs);
      this.timer.unref();
    }
  }

  /** After a record was written: sync now when every record must be durable before `append` returns. */
  afterRecord(): void {
    if (this.intervalMs === 0) this.sync();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The state of a sink that cannot write: since when, why, and the records waiting. */
export class Outage {
  failure: { since: string; error: string } | undefined;
  backlog: AuditOperation[] = [];
  dropped = 0;
  private lastProbe = -Infinity;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly directory: string,
    readonly maxBacklog: number,
    readonly retryIntervalMs: number,
    private readonly now: () => number,
    private readonly retry: () => void,
  ) {}

  /** Keeps a record that could not be written; past the bound it is counted and dropped. */
  enqueue(operation: AuditOperation): void {
    if (this.backlog.length < this.maxBacklog) {
      this.backlog.push(operation);
      return;
    }
    if (this.dropped++ === 0) {
      auditDiag.error(`${this.maxBacklog} records are waiting to be written; further ones are dropped (and counted in the trail)`);
    }
  }

  /** Records a failure (reported once per outage) and starts retrying unless `closed`. */
  fail(error: unknown, closed: boolean): void {
    const code = errorCode(error);
    const message = errorMessage(error);
    const detail = message.startsWith(code) ? message : `${code}: ${message}`;
    if (this.failure === undefined) {
      this.failure = { since: new Date(this.now()).toISOString(), error: code };
      auditDiag.error(
        `cannot write the audit trail in ${this.directory} (${detail}); ` +
          `records are kept in memory (up to ${this.maxBacklog}) and written when it can write again`,
      );
    } else {
      auditDiag.debug(`still cannot write (${detail})`);
    }
    if (this.retryTimer === undefined && this.retryIntervalMs > 0 && !closed) {
      this.retryTimer = setInterval(this.retry, this.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  /** Whether a probe may try now (at most once per retry interval unless `force`). */
  mayProbe(force: boolean): boolean {
    const now = performance.now();
    if (!force && this.retryIntervalMs > 0 && now - this.lastProbe < this.retryIntervalMs) return false;
    this.lastProbe = now;
    return true;
  }

  /** The outage is over (its record written): reports it and returns the number of records dropped. */
  end(): number {
    const failure = this.failure!;
    this.failure = undefined;
    const dropped = this.dropped;
    this.dropped = 0;
    auditDiag.warn(
      `writing again in ${this.directory} after ${failure.error} since ${failure.since}; ` +
        `${this.backlog.length} record(s) kept in memory are written now${dropped > 0 ? `, ${dropped} were dropped` : ''}`,
    );
    return dropped;
  }

  stopRetry(): void {
    if (this.retryTimer !== undefined) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }
}
