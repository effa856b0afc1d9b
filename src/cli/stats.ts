/*
 * `mcp-otel stats [FILE] [--json]`: latency and error statistics of a JSON-line log written by
 * `JsonLogSpanProcessor`, per side, method and tool (or prompt).
 *
 * The log is read line by line from a stream, and each group keeps a count, an error count, an
 * exact sum and maximum, and an HdrHistogram for the percentiles: memory does not grow with the
 * size of the log. Lines that are not JSON, or JSON that is not an MCP operation, are counted and
 * skipped.
 */
import { promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Histogram } from 'hdr-histogram-js';

/** Significant decimal digits the HdrHistogram keeps: relative error below 10^-3. */
const SIGNIFICANT_DIGITS = 3;
/** Latencies are recorded in whole microseconds. */
const UNITS_PER_MS = 1000;

export const PRECISION =
  'count, errors, error rate, mean and max are exact; p50, p95 and p99 come from an HdrHistogram ' +
  `(${SIGNIFICANT_DIGITS} significant digits over whole microseconds) and are within 0.1% + 0.001 ms ` +
  'of the exact nearest-rank percentile';

const SHORT_USAGE = 'usage: mcp-otel stats [FILE] [--json]   (mcp-otel stats --help for more)\n';

export const USAGE = `usage: mcp-otel stats [FILE] [--json]

Reads a JSON-line log of MCP operations (as JsonLogSpanProcessor writes it) from FILE, or from
standard input when FILE is absent or '-', and prints per side, method and tool (or prompt): count,
errors, error rate, and latency mean, p50, p95, p99 and max in milliseconds.

options:
  --json        print one JSON document (for machines) instead of the table
  -h, --help    print this help

Precision: count, errors, error rate, mean and max are exact. p50, p95 and p99 come from an
HdrHistogram (${SIGNIFICANT_DIGITS} significant digits, latencies in whole microseconds): each is within
0.1% + 0.001 ms of the exact nearest-rank percentile. Memory stays constant however large the log:
no list of latencies is kept. Lines that are not JSON, or not MCP operations, are counted and
skipped.

exit status: 0 done, 1 FILE cannot be read, 2 usage error
`;

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

export interface StatsReport {
  source: string;
  /** Non-blank lines read. */
  lines: number;
  /** Lines that were MCP operations. */
  operations: number;
  skipped: { malformed: number; foreign: number };
  precision: string;
  groups: StatsGroup[];
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

/** Accumulates log lines; `report()` gives the statistics so far. */
export class StatsCollector {
  private readonly groups = new Map<string, Accumulator>();
  private readonly hdr: HdrModule;
  lines = 0;
  malformed = 0;
  foreign = 0;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.hdr = require('hdr-histogram-js') as HdrModule;
  }

  add(line: string): void {
    if (line.trim() === '') return;
    this.lines++;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      this.malformed++;
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      this.malformed++;
      return;
    }
    const { side, method, tool, prompt, latency_ms: latency, ok } = record as Record<string, unknown>;
    const micros = typeof latency === 'number' ? Math.round(latency * UNITS_PER_MS) : NaN;
    if (
      (side !== 'server' && side !== 'client') ||
      typeof method !== 'string' ||
      method === '' ||
      typeof ok !== 'boolean' ||
      !(micros >= 0 && micros <= Number.MAX_SAFE_INTEGER) ||
      (tool !== undefined && typeof tool !== 'string') ||
      (prompt !== undefined && typeof prompt !== 'string')
    ) {
      this.foreign++;
      return;
    }
    const key = `${side}\u0000${method}\u0000${tool ?? ''}\u0000${prompt ?? ''}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        side,
        method,
        tool: tool as string | undefined,
        prompt: prompt as string | undefined,
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
    if (!ok) group.errors++;
    group.sum += latency as number;
    if ((latency as number) > group.max) group.max = latency as number;
    if ((latency as number) < group.min) group.min = latency as number;
    group.histogram.recordValue(micros);
  }

  report(source: string): StatsReport {
    const groups = [...this.groups.values()]
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
    return {
      source,
      lines: this.lines,
      operations: this.lines - this.malformed - this.foreign,
      skipped: { malformed: this.malformed, foreign: this.foreign },
      precision: PRECISION,
      groups,
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Feeds every line of `input` to `collector`; rejects with the stream's error. */
function readLines(input: Readable, collector: StatsCollector): Promise<void> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, crlfDelay: Infinity });
    let failed = false;
    input.once('error', (error) => {
      failed = true;
      rl.close();
      reject(error);
    });
    rl.on('line', (line) => collector.add(line));
    rl.once('close', () => {
      if (!failed) resolve();
    });
  });
}

function ms(value: number): string {
  return value.toFixed(3);
}

/** The table for people. */
export function formatTable(report: StatsReport): string {
  const header = ['side', 'method', 'tool/prompt', 'count', 'errors', 'err%', 'mean', 'p50', 'p95', 'p99', 'max'];
  const rows = report.groups.map((g) => [
    g.side,
    g.method,
    g.tool ?? g.prompt ?? '-',
    String(g.count),
    String(g.errors),
    `${(g.error_rate * 100).toFixed(1)}%`,
    ms(g.mean_ms),
    ms(g.p50_ms),
    ms(g.p95_ms),
    ms(g.p99_ms),
    ms(g.max_ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const leftAligned = 3; // side, method, tool/prompt
  const format = (cells: string[]): string =>
    cells
      .map((cell, i) => (i < leftAligned ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [format(header), ...rows.map(format)];
  if (rows.length === 0) lines.push('(no MCP operations)');
  const { malformed, foreign } = report.skipped;
  lines.push(
    '',
    `latencies in ms; ${report.operations} operation(s) from ${report.lines} line(s) of ${report.source}` +
      (malformed + foreign > 0 ? `; skipped ${malformed} malformed and ${foreign} foreign line(s)` : ''),
    `p50/p95/p99 within 0.1% + 0.001 ms (HdrHistogram, ${SIGNIFICANT_DIGITS} significant digits); count, errors, mean, max exact`,
  );
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`mcp-otel stats: ${error instanceof Error ? error.message : String(error)}\n${SHORT_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`mcp-otel stats: one FILE at most, got ${positionals.length}\n${SHORT_USAGE}`);
    return 2;
  }
  const file = positionals[0];
  const fromStdin = file === undefined || file === '-';
  if (fromStdin && process.stdin.isTTY === true) {
    process.stderr.write(`mcp-otel stats: no FILE, and standard input is a terminal\n${SHORT_USAGE}`);
    return 2;
  }

  const collector = new StatsCollector();
  let input: Readable;
  if (fromStdin) {
    input = process.stdin;
  } else {
    try {
      const handle = await fsp.open(file, 'r');
      const stat = await handle.stat();
      if (stat.isDirectory()) {
        await handle.close();
        process.stderr.write(`mcp-otel stats: cannot read ${file}: it is a directory\n`);
        return 1;
      }
      input = handle.createReadStream({ highWaterMark: 1024 * 1024 });
    } catch (error) {
      process.stderr.write(`mcp-otel stats: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  }
  try {
    await readLines(input, collector);
  } catch (error) {
    process.stderr.write(`mcp-otel stats: cannot read ${fromStdin ? 'standard input' : file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const report = collector.report(fromStdin ? '-' : file);
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
  return 0;
}
