/*
 * The figures of the HTML report, accumulated line by line in memory that does not grow with the
 * log: latency per group (shared with `stats`), outcomes per tool, calls and errors over time in
 * buckets that widen as the time range grows, and the slowest operations.
 */
import { compare as cmp, LatencyGroups, type StatsGroup } from '../latency-groups';
import { LogLineCounter, type LogOperation } from '../log-input';

/** The most time buckets kept; merging keeps between MAX_BUCKETS / 10 and MAX_BUCKETS of them. */
const MAX_BUCKETS = 60;
/** Bucket widths in ms, each a multiple of the one before (so buckets merge exactly). */
const WIDTHS_MS = [1, 10, 100, 1e3, 5e3, 10e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 28 * 86400e3];
/** Slowest operations listed. */
export const SLOWEST = 20;

/** Outcomes of one side, method and tool/prompt: successes, and failures per `error.type`. */
export interface OutcomeRow {
  side: string;
  method: string;
  name: string | undefined;
  ok: number;
  errors: Array<[type: string, count: number]>;
}

export interface TimeBucket {
  startMs: number;
  server: number;
  serverErrors: number;
  client: number;
  clientErrors: number;
}

export interface SlowOperation {
  startMs: number;
  side: string;
  method: string;
  name: string | undefined;
  latencyMs: number;
  ok: boolean;
  errorType: string | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
}

export interface ReportData {
  sources: string[];
  lines: number;
  operations: number;
  errors: number;
  malformed: number;
  foreign: number;
  /** First and last start time of an operation (NaN when no line had a valid `ts`). */
  firstMs: number;
  lastMs: number;
  bucketMs: number;
  buckets: TimeBucket[];
  latency: StatsGroup[];
  outcomes: OutcomeRow[];
  slowest: SlowOperation[];
}

interface Outcomes {
  side: string;
  method: string;
  name: string | undefined;
  ok: number;
  errors: Map<string, number>;
}

export class ReportCollector extends LogLineCounter {
  private readonly latency = new LatencyGroups();
  private readonly outcomes = new Map<string, Outcomes>();
  private readonly buckets = new Map<number, TimeBucket>();
  private widthIndex = 0;
  private minIndex = Infinity;
  private maxIndex = -Infinity;
  /** Sorted slowest first; at most SLOWEST. */
  private readonly slowest: SlowOperation[] = [];
  operations = 0;
  errors = 0;
  firstMs = NaN;
  lastMs = NaN;

  protected override addOperation(op: LogOperation): void {
    this.operations++;
    if (!op.ok) this.errors++;
    this.latency.add(op);
    const name = op.tool ?? op.prompt;
    const key = `${op.side}\u0000${op.method}\u0000${name ?? ''}`;
    let outcomes = this.outcomes.get(key);
    if (outcomes === undefined) {
      outcomes = { side: op.side, method: op.method, name, ok: 0, errors: new Map() };
      this.outcomes.set(key, outcomes);
    }
    if (op.errorType === undefined) outcomes.ok++;
    else outcomes.errors.set(op.errorType, (outcomes.errors.get(op.errorType) ?? 0) + 1);
    if (Number.isFinite(op.startMs)) {
      if (!(op.startMs >= this.firstMs)) this.firstMs = op.startMs;
      if (!(op.startMs <= this.lastMs)) this.lastMs = op.startMs;
      this.count(op);
    }
    const last = this.slowest[this.slowest.length - 1];
    if (this.slowest.length < SLOWEST || op.latencyMs > last!.latencyMs) {
      const entry: SlowOperation = {
        startMs: op.startMs,
        side: op.side,
        method: op.method,
        name,
        latencyMs: op.latencyMs,
        ok: op.ok,
        errorType: op.errorType,
        traceId: op.traceId,
        spanId: op.spanId,
      };
      let at = this.slowest.length;
      while (at > 0 && this.slowest[at - 1]!.latencyMs < op.latencyMs) at--;
      this.slowest.splice(at, 0, entry);
      if (this.slowest.length > SLOWEST) this.slowest.pop();
    }
  }

  /** Counts `op` in its time bucket, widening every bucket while the range needs too many. */
  private count(op: LogOperation): void {
    let index = Math.floor(op.startMs / WIDTHS_MS[this.widthIndex]!);
    while (
      this.widthIndex < WIDTHS_MS.length - 1 &&
      Math.max(this.maxIndex, index) - Math.min(this.minIndex, index) + 1 > MAX_BUCKETS
    ) {
      this.widen();
      index = Math.floor(op.startMs / WIDTHS_MS[this.widthIndex]!);
    }
    this.minIndex = Math.min(this.minIndex, index);
    this.maxIndex = Math.max(this.maxIndex, index);
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      bucket = { startMs: index * WIDTHS_MS[this.widthIndex]!, server: 0, serverErrors: 0, client: 0, clientErrors: 0 };
      this.buckets.set(index, bucket);
    }
    if (op.side === 'server') {
      bucket.server++;
      if (!op.ok) bucket.serverErrors++;
    } else {
      bucket.client++;
      if (!op.ok) bucket.clientErrors++;
    }
  }

  private widen(): void {
    const factor = WIDTHS_MS[this.widthIndex + 1]! / WIDTHS_MS[this.widthIndex]!;
    this.widthIndex++;
    const width = WIDTHS_MS[this.widthIndex]!;
    const old = [...this.buckets.entries()];
    this.buckets.clear();
    for (const [index, b] of old) {
      const merged = Math.floor(index / factor);
      const into = this.buckets.get(merged);
      if (into === undefined) {
        this.buckets.set(merged, { ...b, startMs: merged * width });
      } else {
        into.server += b.server;
        into.serverErrors += b.serverErrors;
        into.client += b.client;
        into.clientErrors += b.clientErrors;
      }
    }
    this.minIndex = Math.floor(this.minIndex / factor);
    this.maxIndex = Math.floor(this.maxIndex / factor);
  }

  data(sources: string[]): ReportData {
    const width = WIDTHS_MS[this.widthIndex]!;
    const buckets: TimeBucket[] = [];
    // Every bucket of the range, empty ones included, so the time axis is even.
    if (this.buckets.size > 0) {
      for (let i = this.minIndex; i <= this.maxIndex; i++) {
        buckets.push(this.buckets.get(i) ?? { startMs: i * width, server: 0, serverErrors: 0, client: 0, clientErrors: 0 });
      }
    }
    const outcomes = [...this.outcomes.values()]
      .map((o): OutcomeRow => ({
        side: o.side,
        method: o.method,
        name: o.name,
        ok: o.ok,
        errors: [...o.errors.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
      }))
      .sort((a, b) => cmp(a.side, b.side) || cmp(a.method, b.method) || cmp(a.name ?? '', b.name ?? ''));
    return {
      sources,
      lines: this.lines,
      operations: this.operations,
      errors: this.errors,
      malformed: this.malformed,
      foreign: this.foreign,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      bucketMs: width,
      buckets,
      latency: this.latency.rows(),
      outcomes,
      slowest: [...this.slowest],
    };
  }
}
