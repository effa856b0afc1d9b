/*
 * Central verification of a collected audit trail (`mcp-otel audit verify` on a collector's file
 * output): records grouped by chain, each chain checked whole — every record as written (canonical,
 * hash), in its place (seq, prev), nothing missing that its replica did not say it could not deliver —
 * naming the replica of each problem; copies delivered twice are counted, not reported.
 */
import { readdirSync, readSync, openSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { looksCollected, readCollectedFile, type CollectedEntry } from './collected-read';
import { readRecordLine } from './line';
import { GENESIS_HASH, keyBytes, keyIdOf, recordHash, type AuditRecord } from './record';
import type {
  AuditCollectedChainReport,
  AuditCollectedProblem,
  AuditCollectedVerifyResult,
  VerifyCollectedOptions,
} from './verify-types';

export type { AuditCollectedChainReport, AuditCollectedProblem, AuditCollectedVerifyResult, VerifyCollectedOptions } from './verify-types';

/** A record of a chain: its entry (where it was found) and its parsed body. */
interface Found {
  entry: CollectedEntry;
  record: AuditRecord;
  /** Whether the hash matches the contents (undefined: not checked, the key is unknown). */
  valid: boolean | undefined;
}

function headOf(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(64);
    const read = readSync(fd, buffer, 0, 64, 0);
    return buffer.toString('utf8', 0, read);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * What `path` holds: `collected` (every file is a collector's OTLP JSON), `segments` (local segment
 * files), `mixed`, or `none` (no file with content). A directory's `*.jsonl` and `*.json` files count.
 */
export function auditTrailKind(path: string): 'collected' | 'segments' | 'mixed' | 'none' {
  const heads = listFiles(path).map(headOf).filter((head) => head.trim() !== '');
  if (heads.length === 0) return 'none';
  const collected = heads.filter(looksCollected).length;
  return collected === heads.length ? 'collected' : collected === 0 ? 'segments' : 'mixed';
}

function listFiles(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => name.endsWith('.jsonl') || name.endsWith('.json'))
      .sort()
      .map((name) => join(path, name));
  } catch {
    return [];
  }
}

function range(from: number, to: number): string {
  return from === to ? `seq ${from}` : `seq ${from}–${to}`;
}

/**
 * Verifies a collected audit trail: one collector output file, or a directory of them (`*.jsonl`,
 * `*.json`). Never throws for what the files hold: the result lists every problem, with its replica.
 */
export function verifyCollectedAuditTrail(path: string, options: VerifyCollectedOptions = {}): AuditCollectedVerifyResult {
  const result: AuditCollectedVerifyResult = { status: 'ok', files: [], lines: 0, records: 0, duplicates: 0, foreign: 0, replicas: [], chains: [], problems: [] };
  let key: Buffer | undefined;
  try {
    key = keyBytes(options.key);
    statSync(path);
  } catch (error) {
    result.status = 'usage';
    result.usage = (error as Error).message;
    return result;
  }
  result.files = listFiles(path);
  const chains = new Map<string, CollectedEntry[]>();
  for (const file of result.files) {
    const read = readCollectedFile(file);
    result.lines += read.lines;
    result.foreign += read.foreign;
    result.problems.push(...read.problems);
    for (const entry of read.entries) {
      const list = chains.get(entry.chain) ?? [];
      list.push(entry);
      chains.set(entry.chain, list);
    }
  }
  if (chains.size === 0 && result.problems.length === 0) {
    result.problems.push({ file: path, line: 0, message: `no audit log record (${result.foreign} other log record(s))` });
  }
  const hashes = new Set<string>();
  const replicas = new Set<string>();
  for (const [chain, entries] of chains) {
    const report = verifyCollectedChain(chain, entries, key, result.problems, hashes);
    result.chains.push(report);
    result.records += report.records;
    result.duplicates += report.duplicates;
    for (const replica of report.replicas) replicas.add(replica);
  }
  const firstReplica = (r: AuditCollectedChainReport): string => r.replicas[0] ?? '';
  result.chains.sort((a, b) => (firstReplica(a) < firstReplica(b) ? -1 : firstReplica(a) > firstReplica(b) ? 1 : a.chain < b.chain ? -1 : 1));
  result.replicas = [...replicas].sort();
  for (const head of options.heads ?? []) {
    if (!hashes.has(head.toLowerCase())) {
      result.problems.push({ file: path, line: 0, message: `the head ${head} is not in the collected trail: records were removed, or never delivered` });
    }
  }
  if (result.problems.length > 0) result.status = 'broken';
  return result;
}

function verifyCollectedChain(chain: string, entries: CollectedEntry[], key: Buffer | undefined, problems: AuditCollectedProblem[], hashes: Set<string>): AuditCollectedChainReport {
  const report: AuditCollectedChainReport = {
    chain,
    name: entries.find((e) => e.name !== undefined)?.name ?? chain,
    replicas: [],
    records: 0,
    operations: 0,
    firstSeq: 0,
    lastSeq: 0,
    lastHash: GENESIS_HASH,
    closed: false,
    duplicates: 0,
    undelivered: [],
    verified: true,
  };
  const problem = (entry: CollectedEntry, message: string, seq?: number): void => {
    problems.push({ file: entry.file, line: entry.line, replica: entry.replica, chain, seq, message: `replica ${entry.replica}, chain ${chain} (${report.name}): ${message}` });
  };

  // Each copy read as a record; copies of the same bytes counted once.
  const bySeq = new Map<number, Found[]>();
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.body)) {
      report.duplicates += 1;
      continue;
    }
    seen.add(entry.body);
    const read = readRecordLine(entry.body, null);
    if (read.record === undefined) {
      problem(entry, `a record (attribute seq ${String(entry.attributes.seq)}) is not as written: ${read.problem.message}`);
      continue;
    }
    const record = read.record;
    const differ = (['seq', 'prev', 'hash'] as const).filter((field) => entry.attributes[field] !== record[field]);
    if (differ.length > 0) {
      problem(entry, `seq ${record.seq}: the log record's ${differ.join(', ')} attribute(s) do not match its record (edited in transit or in the store)`, record.seq);
    }
    if (record.type === 'segment' && record.chain !== chain) {
      problem(entry, `seq ${record.seq}: a segment header of the chain ${String(record.chain)} sent as this chain's`, record.seq);
    }
    const list = bySeq.get(record.seq) ?? [];
    list.push({ entry, record, valid: undefined });
    bySeq.set(record.seq, list);
  }

  // The chain's key: the segment headers say (their hash covers it); else the attribute.
  const all = [...bySeq.values()].flat();
  const header = all.find((f) => f.record.type === 'segment' && (f.record.alg === 'sha256' || f.record.alg === 'hmac-sha256'));
  const keyId = header !== undefined ? (header.record.alg === 'hmac-sha256' ? String(header.record.keyId) : undefined) : (all.find((f) => typeof f.entry.attributes.keyId === 'string')?.entry.attributes.keyId as string | undefined);
  let hashKey: Buffer | undefined;
  const first = all[0]?.entry ?? entries[0]!;
  if (keyId !== undefined) {
    const given = key !== undefined ? keyIdOf(key) : undefined;
    if (given !== keyId) {
      report.verified = false;
      problem(first, given === undefined ? `keyed (HMAC-SHA-256, key id ${keyId}): not verified without its key (--key)` : `keyed with the unknown key id ${keyId} (the key given has id ${given}): not verified`);
    }
    hashKey = key;
  } else if (key !== undefined && all.length > 0) {
    problem(first, 'the chain is not keyed (plain SHA-256) although a key was given: anyone who can write the records could have rebuilt it');
  }

  const chosen = new Map<number, Found>();
  if (report.verified) {
    for (const f of all) f.valid = recordHash(withoutHash(f.record), hashKey) === f.record.hash;
    const invalid = all.filter((f) => f.valid === false);
    const swapped = new Set<Found>();
    for (const a of invalid) {
      if (swapped.has(a)) continue;
      for (const b of invalid) {
        if (b === a || swapped.has(b)) continue;
        const aThere = movedFrom(a, b, hashKey);
        const bThere = aThere !== undefined ? movedFrom(b, a, hashKey) : undefined;
        if (aThere === undefined || bThere === undefined) continue;
        swapped.add(a).add(b);
        const [low, high] = a.record.seq < b.record.seq ? [a, b] : [b, a];
        problem(low.entry, `seq ${low.record.seq} and seq ${high.record.seq} swapped places (reordered): each record's hash matches the other's position`, low.record.seq);
        // Back in their places, for the checks of what follows.
        chosen.set(b.record.seq, { ...a, record: aThere, valid: true });
        chosen.set(a.record.seq, { ...b, record: bThere, valid: true });
        break;
      }
    }
    for (const [seq, list] of [...bySeq.entries()].sort((p, q) => p[0] - q[0])) {
      const valid = list.filter((f) => f.valid === true);
      for (const f of list) {
        if (f.valid !== false || swapped.has(f)) continue;
        const original = valid[0];
        problem(
          f.entry,
          original !== undefined
            ? `seq ${seq}: an edited copy of the record (its hash does not match its contents; the record as written is at ${original.entry.file}:${original.entry.line})`
            : `seq ${seq}: its hash does not match its contents (the record was edited)`,
          seq,
        );
      }
      if (valid.length > 1) {
        problem(valid[1]!.entry, `seq ${seq}: ${valid.length} different records, each with a valid hash: the chain was forked (records forged, rebuilt without a key)`, seq);
      }
      if (!chosen.has(seq)) chosen.set(seq, valid.find((f) => f.record.prev === chosen.get(seq - 1)?.record.hash) ?? valid[0] ?? list[0]!);
    }
  } else {
    for (const [seq, list] of bySeq) chosen.set(seq, list[0]!);
  }

  const seqs = [...chosen.keys()].sort((a, b) => a - b);
  if (seqs.length === 0) return report;
  for (const f of chosen.values()) {
    if (f.record.type === 'undelivered' && f.valid !== false && Array.isArray(f.record.seqs)) {
      for (const r of f.record.seqs as unknown[]) if (Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) report.undelivered.push([r[0], r[1]]);
    }
  }
  const stated = (seq: number): boolean => report.undelivered.some(([from, to]) => seq >= from && seq <= to);
  let expect = 1;
  let previous: Found | undefined;
  for (const seq of seqs) {
    const f = chosen.get(seq)!;
    if (seq > expect) {
      let from: number | undefined;
      for (let s = expect; s <= seq; s++) {
        const missing = s < seq && !stated(s);
        if (missing && from === undefined) from = s;
        if (!missing && from !== undefined) {
          problem(f.entry, `${range(from, s - 1)} missing: ${s - from} record(s) deleted from the collected trail, or lost after the collector accepted them`, from);
          from = undefined;
        }
      }
    } else if (seq === 1 && f.record.prev !== GENESIS_HASH && report.verified) {
      problem(f.entry, 'seq 1: prev is not the genesis hash: records before it were cut', 1);
    }
    if (report.verified && previous !== undefined && previous.record.seq === seq - 1 && f.record.prev !== previous.record.hash) {
      problem(f.entry, `seq ${seq}: prev does not match the hash of seq ${seq - 1}: seq ${seq - 1} was replaced (forged)`, seq);
    }
    if (f.valid !== false) hashes.add(f.record.hash);
    if (f.record.type === 'op') report.operations += 1;
    if (!report.replicas.includes(f.entry.replica)) report.replicas.push(f.entry.replica);
    previous = f;
    expect = seq + 1;
  }
  const last = chosen.get(seqs[seqs.length - 1]!)!;
  report.records = chosen.size;
  report.firstSeq = seqs[0]!;
  report.lastSeq = last.record.seq;
  report.lastHash = last.record.hash;
  report.closed = last.record.type === 'close';
  return report;
}

function withoutHash(record: AuditRecord): Omit<AuditRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  return rest;
}

/**
 * `a` as it was written at `b`'s place, if its hash says it was (with `b`'s seq, or with `b`'s seq and
 * prev): a record moved from there to where it is now.
 */
function movedFrom(a: Found, b: Found, key: Buffer | undefined): AuditRecord | undefined {
  const rest = withoutHash(a.record);
  for (const candidate of [{ ...rest, seq: b.record.seq }, { ...rest, seq: b.record.seq, prev: b.record.prev }]) {
    if (recordHash(candidate, key) === a.record.hash) return { ...candidate, hash: a.record.hash } as AuditRecord;
  }
  return undefined;
}
