/*
 * Creates a directory and its missing parents one level at a time, stopping at the first error —
 * never `mkdirSync(path, { recursive: true })`, which on Node 20 loops forever, spinning a CPU, on a
 * path the file system refuses to create (any path under /proc).
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function isDirectory(path: string): boolean | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? undefined : stat.isDirectory();
}

/** Makes `path` (and its missing ancestors) a directory; throws the file system's first error. */
export function makeDirectory(path: string, mode?: number): void {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const directory = isDirectory(current);
    if (directory === true) break;
    if (directory === false) {
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR', path: current });
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, mode === undefined ? undefined : { mode });
    } catch (error) {
      // Made meanwhile by someone else: fine.
      if ((error as { code?: unknown }).code !== 'EEXIST' || isDirectory(level) !== true) throw error;
    }
  }
}
