/*
 * Reading an audit trail for verification: the files to check (one file, or every `*.jsonl` of a
 * directory), each split into lines and parsed, with its segment header found; and the two ways
 * verification stops (a broken trail, a usage error).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readRecordLine, splitLines, type FileLine, type LineResult } from './line';
import type { AuditRecord } from './record';

/** The trail is broken: what, where (file, 1-based line; 0 when not one line's). */
export class Broken extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** The trail cannot be checked as asked (bad key, unreadable path). */
export class Usage extends Error {}

/** A segment file, read whole, with its header. */
export interface Segment {
  path: string;
  name: string;
  content: Buffer;
  lines: FileLine[];
  parsed: LineResult[];
  header: AuditRecord;
  headerLine: FileLine;
}

/** The files to verify: `path` itself, or the `*.jsonl` files of the directory `path`, sorted. */
export function trailFiles(path: string): { isDirectory: boolean; files: string[] } {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new Usage(`cannot read ${path}: ${(error as Error).message}`);
  }
  const files = isDirectory
    ? readdirSync(path)
        .filter((name) => name.endsWith('.jsonl'))
        .sort()
        .map((name) => join(path, name))
    : [path];
  return { isDirectory, files };
}

/** Reads a file and finds its segment header; `undefined` for an empty file. */
export function loadSegment(path: string): Segment | undefined {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    throw new Broken(path, 0, `cannot read the file: ${(error as Error).message}`);
  }
  if (content.length === 0) return undefined;
  const lines = splitLines(content);
  const parsed = lines.map((line) => readRecordLine(line.text, null));
  const index = parsed.findIndex((p) => p.record?.type === 'segment');
  if (index === -1) throw new Broken(path, 1, 'not an audit segment: it has no segment header record');
  const header = parsed[index]!.record!;
  if (typeof header.chain !== 'string' || !Number.isSafeInteger(header.segment) || (header.segment as number) < 0) {
    throw new Broken(path, lines[index]!.number, 'the segment header has no valid chain id or segment index');
  }
  if (header.alg !== 'sha256' && header.alg !== 'hmac-sha256') {
    throw new Broken(path, lines[index]!.number, `unknown hash algorithm ${JSON.stringify(header.alg)}`);
  }
  return { path, name: basename(path), content, lines, parsed, header, headerLine: lines[index]! };
}

export function emptyFile(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}
