/*
 * The audit subpath's ESM entry: the same named exports as the CommonJS one, and the very same
 * classes (one copy per process), loaded by a real ESM import in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers/sdk';

test('build/src/audit/index.mjs re-exports the CommonJS build: same names, same objects', () => {
  const cjs = join(REPO_ROOT, 'build', 'src', 'audit', 'index.js');
  const esm = pathToFileURL(join(REPO_ROOT, 'build', 'src', 'audit', 'index.mjs')).href;
  const script = `
    import { createRequire } from 'node:module';
    const esm = await import(${JSON.stringify(esm)});
    const cjs = createRequire(import.meta.url)(${JSON.stringify(cjs)});
    const names = Object.keys(cjs).sort();
    process.stderr.write(JSON.stringify({ esm: Object.keys(esm).sort(), cjs: names, same: names.every((n) => esm[n] === cjs[n]) }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  const names = [
    'AppendOnlyFileSink',
    'AuditLockError',
    'AuditSpanProcessor',
    'DEFAULT_AUDITED_METHODS',
    'DEFAULT_AUDIT_REJECT_ERROR_CODE',
    'ENV_AUDIT_RECORD_ARGUMENTS',
    'GENESIS_HASH',
    'OtlpAuditSink',
    'canonicalJson',
    'verifyAuditTrail',
    'verifyCollectedAuditTrail',
  ];
  assert.deepEqual(JSON.parse(child.stderr), { esm: names, cjs: names, same: true });
});
