#!/usr/bin/env node
// Run the test suite against several @modelcontextprotocol/sdk versions.
//
//   node scripts/test-sdk-versions.mjs [version...] [-- test.mjs args...]
//
// Default versions: the oldest supported and the newest tested release. Each
// version is installed (with zod@3) into .cache/sdk/<version>/ once, then
// scripts/test.mjs runs with MCP_SDK_ROOT=<that dir>. Builds first only when
// build/ is missing. Prints one summary line per version; exits 1 if any failed.
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_VERSIONS = ['1.10.0', '1.32.2'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (p) => path.relative(root, p) || '.';
const log = (msg) => console.error(`sdk-versions: ${msg}`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const versions = (dashdash === -1 ? argv : argv.slice(0, dashdash)).filter(Boolean);
const testArgs = dashdash === -1 ? [] : argv.slice(dashdash + 1);
if (versions.length === 0) versions.push(...DEFAULT_VERSIONS);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) {
    log(`could not start ${cmd}: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

function installedVersion(prefix, pkg) {
  try {
    return JSON.parse(readFileSync(path.join(prefix, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(0)}s`;

if (!existsSync(path.join(root, 'build'))) {
  log('build/ missing; building');
  if (run(process.execPath, [path.join(root, 'scripts', 'build.mjs')]) !== 0) {
    log('build failed');
    process.exit(1);
  }
}

const results = [];
for (const version of versions) {
  const prefix = path.join(root, '.cache', 'sdk', version);
  const t0 = Date.now();
  let note = '';
  console.error(`\n===== MCP SDK ${version} (${rel(prefix)}) =====`);

  if (installedVersion(prefix, '@modelcontextprotocol/sdk') === version && installedVersion(prefix, 'zod')) {
    note = 'cached';
  } else {
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    const ti = Date.now();
    const code = run(npm, [
      'install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts',
      '--prefix', prefix, `@modelcontextprotocol/sdk@${version}`, 'zod@3',
    ]);
    if (code !== 0) {
      results.push({ version, ok: false, line: `FAIL  install failed (npm exit ${code})` });
      continue;
    }
    note = `installed in ${secs(ti)}`;
  }
  const sdk = installedVersion(prefix, '@modelcontextprotocol/sdk');
  const zod = installedVersion(prefix, 'zod');
  if (!sdk || !zod) {
    results.push({ version, ok: false, line: 'FAIL  sdk or zod missing after install' });
    continue;
  }

  const code = run(process.execPath, [path.join(root, 'scripts', 'test.mjs'), ...testArgs], {
    env: { ...process.env, MCP_SDK_ROOT: prefix },
  });
  results.push({
    version,
    ok: code === 0,
    line: `${code === 0 ? 'PASS' : 'FAIL'}  sdk ${sdk}, zod ${zod} (${note}), ${secs(t0)}`,
  });
}

console.error('\n===== MCP SDK version summary =====');
for (const r of results) console.error(`  ${r.version.padEnd(10)} ${r.line}`);
const failed = results.filter((r) => !r.ok).length;
console.error(failed ? `${failed} of ${results.length} SDK version(s) failed` : `all ${results.length} SDK version(s) passed`);
process.exit(failed ? 1 : 0);
