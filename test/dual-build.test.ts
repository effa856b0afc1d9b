/*
 * The SDK's CommonJS and ESM builds loaded in one process are two distinct Protocol classes: each is
 * patched exactly once, and each traces its own connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, fixture, REPO_ROOT } from './helpers/sdk';
import { v1Only } from './helpers/mcp';

/** On MCP_SDK_MAJOR=2 this file skips: its app loads v1's dist/cjs and dist/esm builds and their shared/protocol.js. */
const V1_ONLY = v1Only('its app loads v1\'s dist/cjs and dist/esm builds and their shared/protocol.js');

test('ESM and CJS copies of the SDK in one process are each patched once and traced', { skip: V1_ONLY }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-dual-'));
  try {
    const run = spawnSync(process.execPath, ['--import', fixture('esm-loader.mjs'), fixture('dual-build-app.mjs')], {
      cwd: REPO_ROOT,
      env: childEnv({ SPAN_FILE: join(dir, 'spans.jsonl') }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { distinct: boolean; esmWrappedOnce: boolean; cjsWrappedOnce: boolean; spans: string[] };
    assert.equal(report.distinct, true, 'two Protocol classes');
    assert.equal(report.esmWrappedOnce, true);
    assert.equal(report.cjsWrappedOnce, true);
    for (const build of ['esm', 'cjs']) {
      assert.equal(report.spans.filter((s) => s === `2 tools/call echo ${build}-server`).length, 1, `${build} CLIENT span`);
      assert.equal(report.spans.filter((s) => s === `1 tools/call echo ${build}-client`).length, 1, `${build} SERVER span`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
