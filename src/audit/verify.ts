/*
 * Verification of an audit trail (`mcp-otel audit verify`): reads the segments, checks each chain in
 * turn (see `verify-chain.ts`), the heads recorded earlier, and — for a directory — that every chain
 * its registry lists is still there.
 */
import { join } from 'node:path';
import { readChainRegistry, CHAIN_REGISTRY_FILE } from './chain-registry';
import { keyBytes } from './record';
import { verifyChain } from './verify-chain';
import { Broken, loadSegment, trailFiles, Usage, type Segment } from './verify-read';
import type { AuditVerifyProblem, AuditVerifyResult, VerifyAuditOptions } from './verify-types';

export type { AuditChainReport, AuditVerifyProblem, AuditVerifyResult, VerifyAuditOptions } from './verify-types';

/**
 * Verifies an audit file, or a directory of segments (every `*.jsonl` file in it). Never throws for a
 * broken or unreadable trail: the result says what is wrong, and where.
 */
export function verifyAuditTrail(path: string, options: VerifyAuditOptions = {}): AuditVerifyResult {
  const result: AuditVerifyResult = { status: 'ok', records: 0, segments: 0, chains: [], skipped: [], warnings: [] };
  try {
    verify(path, options, result);
  } catch (error) {
    if (error instanceof Broken) {
      result.status = 'broken';
      result.problem = { file: error.file, line: error.line, message: error.message };
    } else if (error instanceof Usage) {
      result.status = 'usage';
      result.usage = error.message;
    } else {
      throw error;
    }
  }
  return result;
}

function verify(path: string, options: VerifyAuditOptions, result: AuditVerifyResult): void {
  let key: Buffer | undefined;
  try {
    key = keyBytes(options.key);
  } catch (error) {
    throw new Usage((error as Error).message);
  }
  const { isDirectory, files } = trailFiles(path);

  const segments: Segment[] = [];
  for (const file of files) {
    const segment = loadSegment(file);
    if (segment === undefined) result.skipped.push(file);
    else segments.push(segment);
  }
  const chains = new Map<string, Segment[]>();
  for (const segment of segments) {
    const id = segment.header.chain as string;
    const list = chains.get(id) ?? [];
    list.push(segment);
    chains.set(id, list);
  }
  if (isDirectory) result.warnings.push(...registryWarnings(path, chains));
  if (segments.length === 0) {
    throw new Broken(path, 0, isDirectory ? 'no audit segment (*.jsonl with records) in the directory' : 'the file holds no record');
  }

  const ordered = [...chains.entries()]
    .map(([id, list]) => ({ id, list: list.sort((a, b) => (a.header.segment as number) - (b.header.segment as number)) }))
    .sort((a, b) => (a.list[0]!.header.ts < b.list[0]!.header.ts ? -1 : a.list[0]!.header.ts > b.list[0]!.header.ts ? 1 : 0));

  const hashes = new Set<string>();
  for (const { id, list } of ordered) {
    const report = verifyChain(id, list, isDirectory ? path : undefined, key, options.allowOpen === true, hashes);
    result.chains.push(report);
    result.records += report.records;
    result.segments += report.files.length;
  }
  for (const head of options.heads ?? []) {
    if (!hashes.has(head.toLowerCase())) {
      throw new Broken(path, 0, `the head ${head} is not in the trail: records were removed, or the chain rebuilt, after it was recorded`);
    }
  }
}

/**
 * What the directory's chain registry says is missing: a chain it lists of which no segment is left
 * (removed whole, or archived elsewhere), a chain it does not list, a line that is not an entry — or
 * the registry itself (trails written before it existed have none).
 */
function registryWarnings(directory: string, chains: Map<string, Segment[]>): AuditVerifyProblem[] {
  const registry = readChainRegistry(directory);
  const file = join(directory, CHAIN_REGISTRY_FILE);
  if (registry === undefined) {
    return [{ file, line: 0, message: `no chain registry (${CHAIN_REGISTRY_FILE}) in the directory: a chain removed whole cannot be noticed (trails written before the registry have none)` }];
  }
  const warnings: AuditVerifyProblem[] = [];
  for (const line of registry.badLines) {
    warnings.push({ file, line, message: 'not a registry entry (a write cut short, or an edit)' });
  }
  const listed = new Set<string>();
  for (const entry of registry.entries) {
    listed.add(entry.chain);
    if (!chains.has(entry.chain)) {
      warnings.push({
        file,
        line: entry.line,
        message: `the chain ${entry.chain} (${entry.name}, started ${entry.ts} in ${entry.file}) is missing: none of its segments is in the directory (removed whole, or archived elsewhere)`,
      });
    }
  }
  for (const [chain, list] of chains) {
    if (!listed.has(chain)) {
      warnings.push({
        file,
        line: 0,
        message: `the chain ${chain} (${list[0]!.name}…) is not in the registry: it was written where the registry was lost, or the registry was edited`,
      });
    }
  }
  return warnings;
}
