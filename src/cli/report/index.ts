/*
 * `mcp-otel report [FILE...] -o OUT.html`: one self-contained HTML page of a JSON-line log (the
 * files in the order given, as rotation leaves them, or standard input), read as a stream in
 * constant memory; Chart.js is read from its package here, when a report is written, and inlined.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { errorMessage, openLogFile, readLines } from '../log-input';
import { ReportCollector, SLOWEST } from './collector';
import { renderReport } from './html';

const SHORT_USAGE = 'usage: mcp-otel report [FILE...] -o OUT.html   (mcp-otel report --help for more)\n';

export const USAGE = `usage: mcp-otel report [FILE...] -o OUT.html

Reads a JSON-line log of MCP operations (as JsonLogSpanProcessor writes it) from the FILEs in the
order given (rotated files: oldest first), or from standard input when there is no FILE or FILE is
'-', and writes one self-contained HTML page, readable offline (nothing is fetched when it opens):

  - calls per tool by outcome (ok, or the error.type), server and client sides apart
  - latency per method and tool: p50, p95, p99 and max
  - calls and errors over time, in buckets that fit the log's time range
  - error types per tool, and the ${SLOWEST} slowest operations with their trace ids
  - the time range, totals, and the lines skipped as malformed or foreign

options:
  -o, --output FILE   where to write the page ('-' for standard output); required
  -h, --help          print this help

Memory stays constant however large the log. Percentiles are within 0.1% + 0.001 ms (HdrHistogram).

exit status: 0 done, 1 a FILE cannot be read or OUT cannot be written, 2 usage error
`;

/** Chart.js's UMD build, read from its package (a runtime dependency used only here). */
async function chartLibrary(): Promise<string> {
  // The package's exports hide dist/chart.umd.min.js: find it beside the CommonJS entry.
  const entry = require.resolve('chart.js');
  return fsp.readFile(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
}

function usageError(message: string): number {
  process.stderr.write(`mcp-otel report: ${message}\n${SHORT_USAGE}`);
  return 2;
}

export async function run(args: string[]): Promise<number> {
  let values: { output?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return usageError(errorMessage(error));
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const output = values.output;
  if (output === undefined || output === '') return usageError('no output file: give -o OUT.html');
  const files = positionals.length === 0 ? ['-'] : positionals;
  if (files.filter((f) => f === '-').length > 1) return usageError("standard input ('-') can be read once");
  if (files.includes('-') && process.stdin.isTTY === true) return usageError('no FILE, and standard input is a terminal');

  let library: string;
  try {
    library = await chartLibrary();
  } catch (error) {
    process.stderr.write(`mcp-otel report: cannot read Chart.js (the chart.js package): ${errorMessage(error)}\n`);
    return 1;
  }
  // Opened before the log is read: an unwritable path fails at once, not after a long read.
  let out: fsp.FileHandle | undefined;
  if (output !== '-') {
    try {
      out = await fsp.open(output, 'w');
    } catch (error) {
      process.stderr.write(`mcp-otel report: cannot write ${output}: ${errorMessage(error)}\n`);
      return 1;
    }
  }
  try {
    const collector = new ReportCollector();
    for (const file of files) {
      let input: Readable;
      if (file === '-') {
        input = process.stdin;
      } else {
        const opened = await openLogFile(file);
        if (typeof opened === 'string') {
          process.stderr.write(`mcp-otel report: cannot read ${file}: ${opened}\n`);
          return 1;
        }
        input = opened;
      }
      try {
        await readLines(input, (line) => collector.add(line));
      } catch (error) {
        process.stderr.write(`mcp-otel report: cannot read ${file === '-' ? 'standard input' : file}: ${errorMessage(error)}\n`);
        return 1;
      }
    }
    const page = renderReport(collector.data(files), library, new Date());
    if (out === undefined) {
      process.stdout.write(page);
    } else {
      try {
        await out.writeFile(page, 'utf8');
      } catch (error) {
        process.stderr.write(`mcp-otel report: cannot write ${output}: ${errorMessage(error)}\n`);
        return 1;
      }
    }
    return 0;
  } finally {
    await out?.close().catch(() => {});
  }
}
