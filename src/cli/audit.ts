/*
 * `mcp-otel audit verify PATH [--otlp] [--key KEY | --key-file FILE] [--allow-open] [--head HASH]…`
 *
 * Checks the hash chain of an audit file or of a directory of segments. Prints `ok: N records, M
 * segments` and one line per chain (id, name, records, head), or the first broken record: `broken:
 * FILE:LINE: what is wrong`; then a `warning:` line for each chain the directory's registry misses.
 * A collector's OTLP JSON output (sniffed, or `--otlp`) is verified centrally: every problem of every
 * replica's chain is listed (see `printCollected`).
 * Exit status: 0 ok, 1 broken, 2 usage (bad arguments, unreadable path, a keyed chain without its key).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyAuditTrail, type AuditChainReport, type AuditVerifyProblem } from '../audit/verify';
import { auditTrailKind, verifyCollectedAuditTrail, type AuditCollectedChainReport, type AuditCollectedVerifyResult } from '../audit/verify-collected';

const USAGE = `usage: mcp-otel audit verify PATH [options]

Checks the hash chain of an audit trail: PATH is a segment file or a directory of segments, or
what a collector's file exporter wrote (OTLP JSON, one export request per line; a file or a
directory of *.jsonl / *.json), recognised by its first line.

options:
  --otlp             PATH is collector output (OTLP JSON), whatever its first line
  --key KEY          the HMAC key of a keyed chain (UTF-8 text)
  --key-file FILE    read the HMAC key from FILE (one trailing newline is ignored)
  --allow-open       accept a chain that does not end with a close record (writer running or crashed);
                     collected chains are always accepted open (their replicas run)
  --head HASH        a record hash recorded earlier that must still be in the trail (repeatable)
  -h, --help         show this help

exit status: 0 the chain is intact, 1 it is broken, 2 usage error
`;

function usage(message: string): number {
  process.stderr.write(`mcp-otel audit: ${message}\n${USAGE}`);
  return 2;
}

function where(problem: AuditVerifyProblem): string {
  return `${problem.file}${problem.line > 0 ? `:${problem.line}` : ''}`;
}

function describeChain(chain: AuditChainReport): string {
  const parts = [
    `chain ${chain.chain} (${chain.name}): ${chain.files.length} segment(s), ${chain.records} records (${chain.operations} operations)`,
    chain.closed ? 'closed' : 'open',
    `head seq ${chain.lastSeq} ${chain.lastHash}`,
  ];
  if (chain.seals > 0) parts.push(`${chain.seals} torn write(s) sealed`);
  if (chain.outages > 0) parts.push(`${chain.outages} outage(s), ${chain.dropped} record(s) dropped`);
  return parts.join(', ');
}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'verify') return usage(command === undefined ? 'missing command (verify)' : `unknown command '${command}'`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        key: { type: 'string' },
        'key-file': { type: 'string' },
        'allow-open': { type: 'boolean', default: false },
        otlp: { type: 'boolean', default: false },
        head: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usage(positionals.length === 0 ? 'missing PATH' : 'give exactly one PATH');
  if (values.key !== undefined && values['key-file'] !== undefined) return usage('give --key or --key-file, not both');
  let key: string | Buffer | undefined = values.key;
  if (values['key-file'] !== undefined) {
    try {
      const bytes = readFileSync(values['key-file']);
      const trailing = bytes.length >= 2 && bytes[bytes.length - 2] === 0x0d && bytes[bytes.length - 1] === 0x0a ? 2 : bytes[bytes.length - 1] === 0x0a ? 1 : 0;
      key = bytes.subarray(0, bytes.length - trailing);
    } catch (error) {
      return usage(`cannot read the key file: ${(error as Error).message}`);
    }
  }
  if (key !== undefined && key.length === 0) return usage('the key is empty');
  for (const head of values.head ?? []) {
    if (!/^[0-9a-fA-F]{64}$/.test(head)) return usage(`--head ${head}: not a record hash (64 hex digits)`);
  }

  const path = positionals[0]!;
  const kind = values.otlp === true ? 'collected' : auditTrailKind(path);
  if (kind === 'mixed') return usage(`${path} mixes local segments and collector output: verify them apart`);
  if (kind === 'collected') return printCollected(verifyCollectedAuditTrail(path, { key, heads: values.head }));
  const result = verifyAuditTrail(path, { key, allowOpen: values['allow-open'] === true, heads: values.head });
  if (result.status === 'usage') return usage(result.usage ?? 'cannot verify');
  const warnings = result.warnings.map((w) => `warning: ${where(w)}: ${w.message}`);
  if (result.status === 'broken') {
    const problem = result.problem!;
    process.stdout.write(`${[`broken: ${where(problem)}: ${problem.message}`, ...warnings].join('\n')}\n`);
    return 1;
  }
  const lines = [`ok: ${result.records} records, ${result.segments} segments`, ...result.chains.map(describeChain)];
  for (const skipped of result.skipped) lines.push(`skipped the empty file ${skipped}`);
  lines.push(...warnings);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function describeCollectedChain(chain: AuditCollectedChainReport): string {
  const replicas = chain.replicas.length === 1 ? `replica ${chain.replicas[0]}` : `replicas ${chain.replicas.join(', ')}`;
  const parts = [
    `chain ${chain.chain} (${chain.name}) ${replicas}: ${chain.records} records (${chain.operations} operations), seq ${chain.firstSeq}–${chain.lastSeq}`,
    chain.closed ? 'closed' : 'open',
    `head seq ${chain.lastSeq} ${chain.lastHash}`,
  ];
  if (chain.duplicates > 0) parts.push(`${chain.duplicates} duplicate(s) from retries`);
  if (chain.undelivered.length > 0) {
    const ranges = chain.undelivered.map(([from, to]) => (from === to ? `${from}` : `${from}–${to}`)).join(', ');
    parts.push(`not delivered (in the replica's local trail): seq ${ranges}`);
  }
  if (!chain.verified) parts.push('NOT VERIFIED');
  return parts.join(', ');
}

/**
 * The central report: `ok:` or `broken:` with the counts, one `problem:` line per problem (file:line,
 * replica, chain, what), then one line per chain.
 */
function printCollected(result: AuditCollectedVerifyResult): number {
  if (result.status === 'usage') return usage(result.usage ?? 'cannot verify');
  const counts =
    `${result.replicas.length} replica(s), ${result.chains.length} chain(s), ${result.records} records from ${result.lines} export request(s) ` +
    `(${result.duplicates} duplicate(s) from retries, ${result.foreign} other log record(s) skipped)`;
  const lines = [result.status === 'ok' ? `ok: ${counts}` : `broken: ${result.problems.length} problem(s) in ${counts}`];
  for (const problem of result.problems) lines.push(`problem: ${where(problem)}: ${problem.message}`);
  lines.push(...result.chains.map(describeCollectedChain));
  process.stdout.write(`${lines.join('\n')}\n`);
  return result.status === 'ok' ? 0 : 1;
}
