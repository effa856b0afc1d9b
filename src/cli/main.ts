#!/usr/bin/env node
/*
 * `mcp-otel`: the package's command line. Each command lives in its own module and exports
 * `run(args): Promise<number>` (the exit status); this file only dispatches.
 *
 *   mcp-otel stats [FILE] [--json]           latency and error statistics of a JSON-line log
 *   mcp-otel report [FILE...] -o OUT.html    a self-contained HTML report of a JSON-line log
 *   mcp-otel audit verify PATH [--key KEY | --key-file FILE] [--allow-open] [--head HASH]
 */
import { parseArgs } from 'node:util';

type Command = (args: string[]) => Promise<number>;

const USAGE = `usage: mcp-otel <command> [options]

commands:
  stats [FILE] [--json]            per method and tool: count, errors, latency percentiles of a
                                   JSON-line log (FILE, or standard input)
  report [FILE...] -o OUT.html     one self-contained HTML page of a JSON-line log (FILEs, as
                                   rotation leaves them, or standard input): calls per tool by
                                   outcome, latency percentiles, calls and errors over time
  audit verify PATH [--key KEY | --key-file FILE] [--allow-open] [--head HASH]
                                   check the hash chain of an audit file or directory of segments

options:
  -h, --help                       print this help

\`mcp-otel <command> --help\` describes a command.
`;

function load(name: string): Command | undefined {
  switch (name) {
    case 'stats':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('./stats') as { run: Command }).run;
    case 'report':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('./report') as { run: Command }).run;
    case 'audit':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('./audit') as { run: Command }).run;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  // Options before the command are the program's own; everything from the command on is the command's.
  const at = argv.findIndex((arg) => !arg.startsWith('-') || arg === '-');
  const own = at === -1 ? argv : argv.slice(0, at);
  let help: boolean | undefined;
  try {
    ({
      values: { help },
    } = parseArgs({ args: own, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true }));
  } catch (error) {
    process.stderr.write(`mcp-otel: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (at === -1) {
    process.stderr.write(`mcp-otel: no command\n${USAGE}`);
    return 2;
  }
  const name = argv[at]!;
  if (name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = load(name);
  if (command === undefined) {
    process.stderr.write(`mcp-otel: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  return command(argv.slice(at + 1));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`mcp-otel: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
