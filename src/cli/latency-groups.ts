/*
 * Latency statistics per side, method and tool (or prompt) in constant memory: a count, an error
 * count, an exact sum, minimum and maximum, and an HdrHistogram for the percentiles; shared by
 * `stats` and `report`.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { LogOperation } from './log-input';

/** Significant decimal digits the HdrHistogram keeps: relative error below 10^-3. */
export const SIGNIFICANT_DIGITS = 3;
/** Latencies are recorded in whole microseconds. */
const UNITS_PER_MS = 1000;

export const PRECISION =
  'count, errors, error rate, mean and max are exact; p50, p95 and p99 come from an HdrHistogram ' +
  `(${SIGNIFICANT_DIGITS} significant digits over whole microseconds) and are within 0.1% + 0.001 ms ` +
  'of the exact nearest-rank percentile';

/** One row of the result. */
export interface StatsGroup {
  side: string;
  method: string;
  tool?: string;
  prompt?: string;
  count: number;
  errors: number;
  error_rate: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

interface Accumulator {
  side: string;
  method: string;
  tool: string | undefined;
  prompt: string | undefined;
  count: number;
  errors: number;
  sum: number;
  min: number;
  max: number;
  histogram: Histogram;
}

type HdrModule = typeof import('hdr-histogram-js');

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Accumulates operations; `rows()` gives the statistics so far, sorted by side, method, name. */
export class LatencyGroups {
  private readonly groups = new Map<string, Accumulator>();
  private readonly hdr: HdrModule;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.hdr = require('hdr-histogram-js') as HdrModule;
  }

  add(op: LogOperation): void {
    const key = `${op.side}\u0000${op.method}\u0000${op.tool ?? ''}\u0000${op.prompt ?? ''}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        side: op.side,
        method: op.method,
        tool: op.tool,
        prompt: op.prompt,
        count: 0,
        errors: 0,
        sum: 0,
        min: Infinity,
        max: 0,
        histogram: this.hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, autoResize: true }),
      };
      this.groups.set(key, group);
    }
    group.count++;
    if (!op.ok) group.errors++;
    group.sum += op.latencyMs;
    if (op.latencyMs > group.max) group.max = op.latencyMs;
    if (op.latencyMs < group.min) group.min = op.latencyMs;
    group.histogram.recordValue(op.latencyMicros);
  }

  rows(): StatsGroup[] {
    return [...this.groups.values()]
      .sort((a, b) => compare(a.side, b.side) || compare(a.method, b.method) || compare(a.tool ?? a.prompt ?? '', b.tool ?? b.prompt ?? ''))
      .map((g): StatsGroup => {
        // The histogram answers with the top of a bucket: never beyond the exact extremes.
        const percentile = (p: number): number =>
          Math.min(g.max, Math.max(g.min, g.histogram.getValueAtPercentile(p) / UNITS_PER_MS));
        return {
          side: g.side,
          method: g.method,
          ...(g.tool !== undefined ? { tool: g.tool } : {}),
          ...(g.prompt !== undefined ? { prompt: g.prompt } : {}),
          count: g.count,
          errors: g.errors,
          error_rate: g.errors / g.count,
          mean_ms: g.sum / g.count,
          p50_ms: percentile(50),
          p95_ms: percentile(95),
          p99_ms: percentile(99),
          max_ms: g.max,
        };
      });
  }
}
