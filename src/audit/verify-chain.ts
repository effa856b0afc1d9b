/*
 * Checking one chain of an audit trail: every record exactly as written (canonical, hash) and in its
 * place (seq, prev), every segment where the chain says it is (index, rotate → next file, prevFile),
 * torn writes explained by a seal, every record ended by its newline, and the chain's end accounted for.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileLine } from './line';
import { GENESIS_HASH, keyIdOf, parseSegmentFileName, recordHash, sha256Hex, type AuditRecord } from './record';
import { Broken, emptyFile, Usage, type Segment } from './verify-read';
import type { AuditChainReport } from './verify-types';

export function verifyChain(
  chain: string,
  segments: Segment[],
  directory: string | undefined,
  key: Buffer | undefined,
  allowOpen: boolean,
  hashes: Set<string>,
): AuditChainReport {
  const report: AuditChainReport = {
    chain,
    name: parseSegmentFileName(segments[0]!.name)?.base ?? segments[0]!.name,
    files: segments.map((s) => s.path),
    records: 0,
    operations: 0,
    lastSeq: 0,
    lastHash: GENESIS_HASH,
    closed: false,
    seals: 0,
    outages: 0,
    dropped: 0,
  };
  const first = segments[0]!;
  const alg = first.header.alg as string;
  if (alg === 'hmac-sha256' && key === undefined) {
    throw new Usage(`the chain ${chain} is keyed (HMAC-SHA-256, key id ${String(first.header.keyId)}): verify it with --key or --key-file`);
  }
  if (alg === 'sha256' && key !== undefined) {
    throw new Broken(
      first.path,
      first.headerLine.number,
      'the chain is not keyed (plain SHA-256) although a key was given: anyone who can write the files could have rebuilt it',
    );
  }
  const hashKey = alg === 'hmac-sha256' ? key : undefined;
  for (let s = 1; s < segments.length; s++) {
    const [a, b] = [segments[s - 1]!, segments[s]!];
    if (a.header.segment === b.header.segment) {
      const copy = a.header.file !== a.name ? a : b;
      const original = copy === a ? b : a;
      throw new Broken(
        copy.path,
        copy.headerLine.number,
        `a second file with segment ${String(copy.header.segment)} of the chain (also ${original.name}): copied or replayed`,
      );
    }
  }
  const givenKeyId = key !== undefined ? keyIdOf(key) : undefined;

  // A whole trail starts at segment 0 with seq 1; a single file given alone starts wherever it starts.
  let expectIndex = first.header.segment as number;
  if (directory !== undefined && expectIndex !== 0) {
    throw new Broken(
      first.path,
      first.headerLine.number,
      `the chain's first ${expectIndex} segment(s) are missing: this file is segment ${expectIndex} and no earlier segment of chain ${chain} is in the directory (removed?)`,
    );
  }
  let expectSeq: number | undefined = expectIndex === 0 ? 1 : undefined;
  let expectPrev: string | undefined = expectIndex === 0 ? GENESIS_HASH : undefined;
  let lastRecord: { record: AuditRecord; segment: Segment; line: FileLine } | undefined;

  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const file = segment.path;
    const { header } = segment;
    if ((header.segment as number) !== expectIndex) {
      const missing = expectIndex === (header.segment as number) - 1 ? `segment ${expectIndex} is` : `segments ${expectIndex}–${(header.segment as number) - 1} are`;
      throw new Broken(file, segment.headerLine.number, `${missing} missing before this one (segment ${String(header.segment)})`);
    }
    if (header.alg !== alg || header.keyId !== first.header.keyId) {
      throw new Broken(file, segment.headerLine.number, 'the hash algorithm or key changed within the chain');
    }
    if (givenKeyId !== undefined && header.keyId !== givenKeyId) {
      throw new Broken(
        file,
        segment.headerLine.number,
        `the key does not match this chain (the key given has id ${givenKeyId}, the chain's is ${String(header.keyId)})`,
      );
    }

    const seals = new Map<number, { index: number; record: AuditRecord }>();
    segment.parsed.forEach((p, index) => {
      const torn = p.record?.type === 'seal' ? (p.record.torn as { offset?: unknown } | undefined) : undefined;
      if (torn !== undefined && Number.isSafeInteger(torn.offset)) seals.set(torn.offset as number, { index, record: p.record! });
    });

    let headerSeen = false;
    let closedAt: FileLine | undefined;
    let sealedBy = -1;
    for (let i = 0; i < segment.lines.length; i++) {
      const line = segment.lines[i]!;
      const seal = seals.get(line.offset);
      if (seal !== undefined && seal.index > i) {
        checkSeal(segment, line, seal);
        sealedBy = seal.index;
        i = seal.index - 1;
        continue;
      }
      const parsed = segment.parsed[i]!;
      if (parsed.record === undefined) {
        if (!line.terminated) {
          throw new Broken(
            file,
            line.number,
            'the last line is cut short (no newline) and not sealed: the file was truncated, or its writer crashed mid-record and has not restarted',
          );
        }
        throw new Broken(file, line.number, parsed.problem.message);
      }
      const record = parsed.record;
      if (!line.terminated) {
        throw new Broken(
          file,
          line.number,
          `seq ${record.seq}: the last record lacks its newline (byte ${line.offset + line.bytes}): the file was cut, or its end edited`,
        );
      }
      const { hash, ...rest } = record;
      if (recordHash(rest, hashKey) !== hash) {
        throw new Broken(file, line.number, `seq ${record.seq}: its hash does not match its contents (the record was edited)`);
      }
      if (expectSeq !== undefined && record.seq !== expectSeq) {
        throw new Broken(file, line.number, seqProblem(segment, i, record.seq, expectSeq));
      }
      if (expectPrev !== undefined && record.prev !== expectPrev) {
        throw new Broken(
          file,
          line.number,
          `seq ${record.seq}: prev does not match the hash of the record before it (a record before it was replaced or removed)`,
        );
      }
      if (record.type === 'seal' && sealedBy !== i) {
        throw new Broken(file, line.number, `seq ${record.seq}: a seal record whose torn bytes are not right before it`);
      }
      if (closedAt !== undefined && record.type !== 'rotate' && record.type !== 'seal') {
        throw new Broken(file, line.number, `seq ${record.seq}: a ${record.type} record after the close record at line ${closedAt.number}`);
      }
      if (!headerSeen && record.type !== 'segment' && record.type !== 'seal') {
        throw new Broken(file, line.number, `seq ${record.seq}: a ${record.type} record before the segment header`);
      }
      switch (record.type) {
        case 'segment':
          if (headerSeen) throw new Broken(file, line.number, `seq ${record.seq}: a second segment header in one file`);
          headerSeen = true;
          if (record.file !== segment.name) {
            throw new Broken(file, line.number, `the segment header names the file ${String(record.file)}: this file was renamed or copied`);
          }
          if (directory !== undefined && s > 0 && record.prevFile !== segments[s - 1]!.name) {
            throw new Broken(file, line.number, `the segment header says the previous segment is ${String(record.prevFile)}, not ${segments[s - 1]!.name}`);
          }
          break;
        case 'rotate':
          if (i !== segment.lines.length - 1) {
            throw new Broken(file, segment.lines[i + 1]!.number, 'a line after the rotate record that ended this segment');
          }
          break;
        case 'close':
          closedAt = line;
          break;
        case 'op':
          if (typeof record.method !== 'string') throw new Broken(file, line.number, `seq ${record.seq}: an operation record without a method`);
          report.operations += 1;
          break;
        case 'seal':
          report.seals += 1;
          break;
        case 'outage':
          report.outages += 1;
          if (typeof record.dropped === 'number') report.dropped += record.dropped;
          break;
        default:
          break;
      }
      expectSeq = record.seq + 1;
      expectPrev = record.hash;
      hashes.add(record.hash);
      report.records += 1;
      lastRecord = { record, segment, line };
    }
    if (!headerSeen || lastRecord === undefined || lastRecord.segment !== segment) {
      throw new Broken(file, 1, 'the segment has no header record');
    }

    const next = segments[s + 1];
    const end = lastRecord;
    if (next !== undefined) {
      if (end.record.type !== 'rotate') {
        throw new Broken(
          file,
          end.line.number,
          `the segment ends at seq ${end.record.seq} without a rotate record, but the chain continues in ${next.name}: records at its end were removed (truncated)`,
        );
      }
      if (end.record.next !== next.name) {
        const renamed = next.header.file === end.record.next && next.header.segment === expectIndex + 1;
        throw new Broken(
          file,
          end.line.number,
          renamed
            ? `the rotate record names the next segment ${String(end.record.next)}, which was renamed to ${next.name}`
            : rotateTargetProblem(end.record, directory, next.name),
        );
      }
    } else if (end.record.type === 'rotate' && directory !== undefined) {
      const named = join(directory, String(end.record.next));
      if (!(emptyFile(named) && allowOpen)) {
        const message = emptyFile(named)
          ? `the chain ends with a rotate record naming ${String(end.record.next)}, which is empty: its writer crashed during a rotation and has not restarted. With --allow-open an open end is accepted.`
          : rotateTargetProblem(end.record, directory, undefined);
        throw new Broken(file, end.line.number, message);
      }
    }
    expectIndex += 1;
  }

  const end = lastRecord!;
  report.lastSeq = end.record.seq;
  report.lastHash = end.record.hash;
  report.closed = end.record.type === 'close';
  if (!report.closed && end.record.type !== 'rotate' && !allowOpen) {
    throw new Broken(
      end.segment.path,
      end.line.number,
      `the chain ends at seq ${end.record.seq} without a close record: its writer is still running, or crashed and has not ` +
        'restarted, or records at its end were removed (truncated). With --allow-open an open end is accepted.',
    );
  }
  return report;
}

function checkSeal(segment: Segment, line: FileLine, seal: { index: number; record: AuditRecord }): void {
  const torn = seal.record.torn as { offset: number; length?: unknown; sha256?: unknown };
  const sealLine = segment.lines[seal.index]!;
  const length = torn.length;
  if (!Number.isSafeInteger(length) || (length as number) <= 0) {
    throw new Broken(segment.path, sealLine.number, `seq ${seal.record.seq}: the seal record has no valid length`);
  }
  const end = line.offset + (length as number);
  const bytes = segment.content.subarray(line.offset, end);
  const newline = bytes[bytes.length - 1] === 0x0a ? 0 : 1;
  if (end + newline !== sealLine.offset || sha256Hex(bytes) !== torn.sha256) {
    throw new Broken(
      segment.path,
      line.number,
      `seq ${seal.record.seq}: the bytes sealed at line ${sealLine.number} are not the bytes in the file (they were changed)`,
    );
  }
}

function seqProblem(segment: Segment, index: number, seq: number, expected: number): string {
  for (let j = index + 1; j < segment.parsed.length; j++) {
    if (segment.parsed[j]!.record?.seq === expected) {
      return `seq ${seq} where seq ${expected} was expected: records are out of order (seq ${expected} is at line ${segment.lines[j]!.number})`;
    }
  }
  if (seq > expected) {
    const count = seq - expected;
    return `seq ${seq} where seq ${expected} was expected: ${count} record${count === 1 ? ' is' : 's are'} missing before it (deleted)`;
  }
  return `seq ${seq} where seq ${expected} was expected: a record repeated or out of order`;
}

function rotateTargetProblem(record: AuditRecord, directory: string | undefined, actual: string | undefined): string {
  const next = String(record.next);
  let exists = false;
  if (directory !== undefined) {
    try {
      statSync(join(directory, next));
      exists = true;
    } catch {
      exists = false;
    }
  }
  if (!exists) {
    return `the rotate record names the next segment ${next}, which is missing${actual === undefined ? ' (the last segment was removed)' : ' (removed)'}`;
  }
  return actual === undefined
    ? `the rotate record names the next segment ${next}, which is not part of this chain`
    : `the rotate record names the next segment ${next}, but the chain continues in ${actual}`;
}
