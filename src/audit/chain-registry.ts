/*
 * The directory's own history of chains: `chains.registry`, one line appended (never rewritten) each
 * time a writer starts a new chain, so that the verifier can tell a chain that was removed whole from
 * one that never existed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical';
import type { AuditFileSystem } from './file-system';
import { AUDIT_FORMAT_VERSION } from './record';
import { writeAll } from './segment-files';

/** The registry's file name in the audit directory (not `.jsonl`: it is not a segment). */
export const CHAIN_REGISTRY_FILE = 'chains.registry';

/** One line of the registry: a chain, its first segment file, the writer's base name, when it started. */
export interface ChainRegistryEntry {
  chain: string;
  file: string;
  name: string;
  ts: string;
  v: number;
}

/**
 * Appends the entry of a new chain (`O_APPEND`, mode 0600) and syncs it. A line left without its
 * newline by a crash is ended first, so that every entry stays a line of its own.
 */
export function registerChain(fs: AuditFileSystem, directory: string, entry: Omit<ChainRegistryEntry, 'v'>): void {
  const line = canonicalJson({ chain: entry.chain, file: entry.file, name: entry.name, ts: entry.ts, v: AUDIT_FORMAT_VERSION });
  const fd = fs.openSync(join(directory, CHAIN_REGISTRY_FILE), 'a+', 0o600);
  try {
    const size = fs.fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      if (fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) prefix = '\n';
    }
    writeAll(fs, fd, Buffer.from(`${prefix}${line}\n`, 'utf8'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** What the registry of a directory says: its entries, and lines that are not entries. */
export interface ChainRegistry {
  entries: Array<ChainRegistryEntry & { line: number }>;
  /** 1-based numbers of the lines that are not entries (a write cut short, or an edit). */
  badLines: number[];
}

/** Reads the registry of `directory`; `undefined` when there is none (a trail written before it existed). */
export function readChainRegistry(directory: string): ChainRegistry | undefined {
  let text: string;
  try {
    text = readFileSync(join(directory, CHAIN_REGISTRY_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const registry: ChainRegistry = { entries: [], badLines: [] };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((text, index) => {
    const number = index + 1;
    let parsed: Partial<ChainRegistryEntry> | undefined;
    try {
      parsed = JSON.parse(text) as Partial<ChainRegistryEntry>;
    } catch {
      parsed = undefined;
    }
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      typeof parsed.chain === 'string' &&
      typeof parsed.file === 'string' &&
      typeof parsed.name === 'string' &&
      typeof parsed.ts === 'string'
    ) {
      registry.entries.push({ chain: parsed.chain, file: parsed.file, name: parsed.name, ts: parsed.ts, v: Number(parsed.v), line: number });
    } else {
      registry.badLines.push(number);
    }
  });
  return registry;
}
