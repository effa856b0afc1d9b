/*
 * Where a starting writer continues: the end of its own name's chain (explicit names), or of the
 * newest chain in the directory whose writer is gone (default names) — found by reading the ends of
 * segment files, never by trusting anything but valid, hash-checked records.
 */
import { join } from 'node:path';
import { auditDiag } from './diagnostics';
import { errorMessage, type AuditFileSystem } from './file-system';
import { readRecordLine } from './line';
import type { ChainLocks } from './lock';
import { parseSegmentFileName, type AuditHashAlgorithm, type AuditRecord } from './record';

/** How far back from the end of a segment the last whole record is looked for. */
const TAIL_SCAN_LIMIT = 8 * 1024 * 1024;
const HEAD_SCAN_LIMIT = 256 * 1024;
/** Only chains of default-named writers are taken over by another writer. */
export const DEFAULT_NAME_PREFIX = 'audit-';

/** The end of a chain found in the directory. */
export interface ChainTail {
  base: string;
  file: string;
  /** The segment header of `file`. */
  header: AuditRecord;
  /** The last valid record of `file`. */
  last: AuditRecord;
  /** Offset just past `last`: anything after it is torn. */
  goodEnd: number;
}

export interface TailSearch {
  fs: AuditFileSystem;
  directory: string;
  /** This writer's base name. */
  name: string;
  /** Take over the chain of a default-named writer that is gone. */
  adopt: boolean;
  key: Uint8Array | undefined;
  alg: AuditHashAlgorithm;
  keyId: string | undefined;
  locks: ChainLocks;
}

export interface TailFound {
  tail: ChainTail | undefined;
  /** The highest segment number of this writer's own name found in the directory (0: none). */
  ownFileNumber: number;
  /** The base whose lock was taken to continue its chain (release it once handed off). */
  adoptedLock: string | undefined;
}

interface SegmentEnds {
  header: AuditRecord | undefined;
  last: AuditRecord | undefined;
  goodEnd: number;
  size: number;
  /** Some line parsed as a record whose hash did not check (another key). */
  unchecked: boolean;
}

export function findChainTail(search: TailSearch): TailFound {
  const { fs, directory, name } = search;
  const bases = new Map<string, { file: string; n: number }[]>();
  for (const entry of fs.readdirSync(directory)) {
    const parsed = parseSegmentFileName(entry);
    if (parsed === undefined) continue;
    const list = bases.get(parsed.base) ?? [];
    list.push({ file: entry, n: parsed.n });
    bases.set(parsed.base, list);
  }
  const own = bases.get(name);
  if (own !== undefined) {
    const ownFileNumber = Math.max(...own.map((s) => s.n));
    const tail = baseTail(search, name, own);
    if (tail === undefined) auditDiag.error(`the existing chain ${name} in ${directory} cannot be continued; starting a new chain`);
    return { tail, ownFileNumber, adoptedLock: undefined };
  }
  if (!search.adopt) return { tail: undefined, ownFileNumber: 0, adoptedLock: undefined };
  const candidates: { base: string; segments: { file: string; n: number }[]; mtimeMs: number }[] = [];
  for (const [base, segments] of bases) {
    if (!base.startsWith(DEFAULT_NAME_PREFIX)) continue;
    let mtimeMs = 0;
    for (const s of segments) {
      try {
        mtimeMs = Math.max(mtimeMs, fs.statSync(join(directory, s.file)).mtimeMs);
      } catch {
        /* vanished meanwhile */
      }
    }
    candidates.push({ base, segments, mtimeMs });
  }
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const candidate of candidates) {
    const tail = baseTail(search, candidate.base, candidate.segments);
    if (tail === undefined) continue;
    if (!search.locks.take(candidate.base, false)) continue; // its writer is alive
    auditDiag.info(`continuing the chain of ${tail.file} (its writer is gone)`);
    return { tail, ownFileNumber: 0, adoptedLock: candidate.base };
  }
  return { tail: undefined, ownFileNumber: 0, adoptedLock: undefined };
}

/** The end of one base name's chain, when this writer can continue it. */
function baseTail(search: TailSearch, base: string, segments: { file: string; n: number }[]): ChainTail | undefined {
  const { directory } = search;
  for (const { file } of [...segments].sort((a, b) => b.n - a.n)) {
    const path = join(directory, file);
    let ends: SegmentEnds;
    try {
      ends = readSegmentEnds(search, path);
    } catch (error) {
      auditDiag.warn(`cannot read ${path}: ${errorMessage(error)}`);
      return undefined;
    }
    const { header, last } = ends;
    // Empty (a rotation stopped right after creating it) or no record at all (torn before its header
    // was whole): the chain ends in the file before, whose rotate record names this one.
    if (header === undefined && last === undefined && !ends.unchecked) continue;
    if (header === undefined || last === undefined) {
      auditDiag.warn(`${path} has no record this writer can check (another key, or not an audit segment)`);
      return undefined;
    }
    if (header.alg !== search.alg || header.keyId !== search.keyId) return undefined;
    if (typeof header.chain !== 'string' || !Number.isSafeInteger(header.segment)) return undefined;
    if (last.type === 'rotate') {
      const next = last.next;
      if (typeof next !== 'string' || parseSegmentFileName(next) === undefined) return undefined;
      if (hasHeader(search, join(directory, next))) return undefined; // handed off already
    }
    if (ends.goodEnd < ends.size) {
      auditDiag.warn(`${path} ends with ${ends.size - ends.goodEnd} byte(s) that are not a whole record (a crash mid-write); they will be sealed`);
    }
    return { base, file, header, last, goodEnd: ends.goodEnd };
  }
  return undefined;
}

function hasHeader(search: TailSearch, path: string): boolean {
  try {
    return readSegmentEnds(search, path).header !== undefined;
  } catch {
    return false;
  }
}

/**
 * The segment header (the first record of type `segment` near the start) and the last whole, valid
 * record of a file, scanning back from its end.
 */
function readSegmentEnds(search: TailSearch, path: string): SegmentEnds {
  const { fs, key } = search;
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let unchecked = false;
    const check = (text: string): AuditRecord | undefined => {
      const result = readRecordLine(text, key);
      if (result.problem?.kind === 'hash') unchecked = true;
      return result.record;
    };
    const head = Buffer.alloc(Math.min(size, HEAD_SCAN_LIMIT));
    const headBytes = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
    let header: AuditRecord | undefined;
    for (let offset = 0; offset < headBytes.length && header === undefined; ) {
      const end = headBytes.indexOf(0x0a, offset);
      if (end === -1) break;
      const record = check(headBytes.toString('utf8', offset, end));
      if (record?.type === 'segment') header = record;
      offset = end + 1;
    }
    // First in the last 64 KiB, then wider.
    for (const window of [64 * 1024, TAIL_SCAN_LIMIT]) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      const bytes = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, start));
      let lineEnd = bytes.lastIndexOf(0x0a);
      while (lineEnd !== -1) {
        const previous = lineEnd === 0 ? -1 : bytes.lastIndexOf(0x0a, lineEnd - 1);
        if (previous === -1 && start > 0) break; // the line may begin before the window
        const record = check(bytes.toString('utf8', previous + 1, lineEnd));
        if (record !== undefined) return { header, last: record, goodEnd: start + lineEnd + 1, size, unchecked };
        lineEnd = previous;
      }
      if (start === 0) break;
    }
    return { header, last: undefined, goodEnd: 0, size, unchecked };
  } finally {
    fs.closeSync(fd);
  }
}
