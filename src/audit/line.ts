/*
 * Reading one line of an audit file back: is it a record, is it exactly as the sink wrote it, does its
 * hash match? Shared by the sink's crash recovery and the verifier.
 */
import { canonicalJson } from './canonical';
import { AUDIT_FORMAT_VERSION, AUDIT_RECORD_TYPES, HASH_PATTERN, recordHash, type AuditRecord } from './record';

export type LineProblem =
  | { kind: 'json'; message: string }
  | { kind: 'canonical'; message: string }
  | { kind: 'schema'; message: string }
  | { kind: 'hash'; message: string; record: AuditRecord };

export type LineResult = { record: AuditRecord; problem?: undefined } | { record?: undefined; problem: LineProblem };

/**
 * Parses `text` (one line, without its newline) as a record and checks it. With `key === null` the
 * hash is not checked (the caller does not know the chain's algorithm yet).
 */
export function readRecordLine(text: string, key: Uint8Array | undefined | null): LineResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: { kind: 'json', message: `not a JSON record (${(error as Error).message})` } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { problem: { kind: 'json', message: 'not a JSON object' } };
  }
  const record = parsed as AuditRecord;
  let canonical: string;
  try {
    canonical = canonicalJson(record);
  } catch {
    return { problem: { kind: 'canonical', message: 'not canonical JSON' } };
  }
  if (canonical !== text) {
    return { problem: { kind: 'canonical', message: 'the line is not in canonical form (it was edited: spacing, key order, number format or a duplicate key)' } };
  }
  if (record.v !== AUDIT_FORMAT_VERSION) return { problem: { kind: 'schema', message: `unknown format version ${JSON.stringify(record.v)}` } };
  if (!Number.isSafeInteger(record.seq) || record.seq < 1) return { problem: { kind: 'schema', message: 'no valid seq' } };
  if (typeof record.type !== 'string' || !AUDIT_RECORD_TYPES.has(record.type)) {
    return { problem: { kind: 'schema', message: `unknown record type ${JSON.stringify(record.type)}` } };
  }
  if (typeof record.ts !== 'string') return { problem: { kind: 'schema', message: 'no ts' } };
  if (typeof record.prev !== 'string' || !HASH_PATTERN.test(record.prev)) return { problem: { kind: 'schema', message: 'no valid prev' } };
  if (typeof record.hash !== 'string' || !HASH_PATTERN.test(record.hash)) return { problem: { kind: 'schema', message: 'no valid hash' } };
  if (key !== null) {
    const { hash, ...rest } = record;
    if (recordHash(rest, key) !== hash) {
      return { problem: { kind: 'hash', message: 'its hash does not match its contents (the record was edited)', record } };
    }
  }
  return { record };
}

/** One line of a file: its text, where it starts, and whether a newline ended it. */
export interface FileLine {
  /** 1-based. */
  number: number;
  offset: number;
  text: string;
  /** Length in bytes, without the newline. */
  bytes: number;
  terminated: boolean;
}

/** Splits file contents into lines (by `\n`), keeping byte offsets. A final empty piece is not a line. */
export function splitLines(content: Buffer): FileLine[] {
  const lines: FileLine[] = [];
  let start = 0;
  let number = 1;
  while (start < content.length) {
    const end = content.indexOf(0x0a, start);
    const stop = end === -1 ? content.length : end;
    lines.push({
      number,
      offset: start,
      text: content.toString('utf8', start, stop),
      bytes: stop - start,
      terminated: end !== -1,
    });
    number += 1;
    start = stop + 1;
  }
  return lines;
}
