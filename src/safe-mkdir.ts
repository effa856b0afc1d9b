/*
 * Creates a directory and its missing parents one level at a time (never `mkdir -p` in one call), so
 * that a path the file system cannot hold fails at once with the real error instead of looping: Node
 * 20's recursive `mkdirSync` spins forever on such paths (e.g. under `/proc`).
 */
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The two file operations used (a test seam: the audit passes its own). */
export interface MkdirOperations {
  statSync(path: string): { mode: number };
  mkdirSync(path: string, options: { mode: number }): unknown;
}

const nodeOperations: MkdirOperations = {
  statSync: (path) => fs.statSync(path),
  mkdirSync: (path, options) => fs.mkdirSync(path, options),
};

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function isDirectory(mode: number): boolean {
  return (mode & fs.constants.S_IFMT) === fs.constants.S_IFDIR;
}

/**
 * Makes sure `path` is a directory, creating it and every missing parent with `mode`. Throws the file
 * system's error (`ENOENT`, `EACCES`, `ENOTDIR`, `EEXIST` for a file in the way…) when it cannot.
 * Walks up to the first existing ancestor with `stat`, then creates each level with a plain `mkdir`.
 */
export function safeMkdir(path: string, mode: number, operations: MkdirOperations = nodeOperations): void {
  const target = resolve(path);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    let stat: { mode: number };
    try {
      stat = operations.statSync(current);
    } catch (error) {
      const parent = dirname(current);
      if (codeOf(error) !== 'ENOENT' || parent === current) throw error;
      missing.push(current);
      current = parent;
      continue;
    }
    // The target exists but is not a directory: `mkdir` says so in its own words (EEXIST).
    if (current === target && !isDirectory(stat.mode)) operations.mkdirSync(target, { mode });
    break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      operations.mkdirSync(missing[i]!, { mode });
    } catch (error) {
      // Made meanwhile by someone else: fine if it is a directory.
      if (codeOf(error) !== 'EEXIST' || !isDirectory(operations.statSync(missing[i]!).mode)) throw error;
    }
  }
}
