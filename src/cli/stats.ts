/*
 * `mcp-otel stats [FILE] [--json]`: latency and error statistics of a JSON-line log written by
 * `JsonLogSpanProcessor`, per side, method and tool (or prompt).
 *
 * The log is read line by line from a stream, and each group keeps a count, an error count, an
 * exact sum and maximum, and an HdrHistogram for the percentiles: memory does not grow with the
 * size of the log. Lines that are not JSON, or JSON that is not an MCP operation, are counted and
 * skipped.
 */
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { LatencyGroups, PRECISION, SIGNIFICANT_DIGITS, type StatsGroup } from './latency-groups';
import { errorMessage, LogLineCounter, openLogFile, readLines, type LogOperation } from './log-input';
import { formatTraceContext, TraceContextByClient, type TraceContextRow } from './trace-context';

export { PRECISION, type StatsGroup };

const SHORT_USAGE = 'usage: mcp-otel stats [FILE] [--json]   (mcp-otel stats --help for more)\n';

export const USAGE = `usage: mcp-otel stats [FILE] [--json]

Reads a JSON-line log of MCP operations (as JsonLogSpanProcessor writes it) from FILE, or from
standard input when FILE is absent or '-', and prints per side, method and tool (or prompt): count,
errors, error rate, and latency mean, p50, p95, p99 and max in milliseconds; then, per client, the
share of the server's requests that arrived without trace context in _meta (why traces don't join).

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

export interface StatsReport {
  source: string;
  /** Non-blank lines read. */
  lines: number;
  /** Lines that were MCP operations. */
  operations: number;
  skipped: { malformed: number; foreign: number };
  precision: string;
  groups: StatsGroup[];
  /** Server side, per client: requests with and without trace context in `_meta` (empty when the log does not say). */
  trace_context: TraceContextRow[];
}

/** Accumulates log lines; `report()` gives the statistics so far. */
export class StatsCollector extends LogLineCounter {
  private readonly groups = new LatencyGroups();
  private readonly traceContext = new TraceContextByClient();

  protected override addOperation(op: LogOperation): void {
    this.groups.add(op);
    this.traceContext.add(op);
  }

  report(source: string): StatsReport {
    return {
      source,
      lines: this.lines,
      operations: this.lines - this.malformed - this.foreign,
      skipped: { malformed: this.malformed, foreign: this.foreign },
      precision: PRECISION,
      groups: this.groups.rows(),
      trace_context: this.traceContext.rows(),
    };
  }
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
  return `${lines.join('\n')}\n${formatTraceContext(report.trace_context)}`;
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
    process.stderr.write(`mcp-otel stats: ${errorMessage(error)}\n${SHORT_USAGE}`);
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
    const opened = await openLogFile(file);
    if (typeof opened === 'string') {
      process.stderr.write(`mcp-otel stats: cannot read ${file}: ${opened}\n`);
      return 1;
    }
    input = opened;
  }
  try {
    await readLines(input, (line) => collector.add(line));
  } catch (error) {
    process.stderr.write(`mcp-otel stats: cannot read ${fromStdin ? 'standard input' : file}: ${errorMessage(error)}\n`);
    return 1;
  }
  const report = collector.report(fromStdin ? '-' : file);
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
  return 0;
}
