#!/usr/bin/env node
// Run the compiled test files with Node's built-in test runner.
//
//   node scripts/test.mjs [filter...] [--node-flag...]
//
// Positional args are substring filters on the test file path (relative to the
// test build dir; a file runs if it matches any filter). Args starting with "-"
// are passed to node unchanged (e.g. --test-name-pattern=tools).
//
// Environment:
//   TEST_BUILD_DIR       dir scanned for *.test.{js,mjs,cjs} (default build/test,
//                        relative paths are resolved against the repo root)
//   TEST_CONCURRENCY     --test-concurrency (default 1; test files start child
//                        processes and loopback servers)
//   TEST_TIMEOUT         --test-timeout in ms (default 120000, 0 = none). Applies
//                        to each test; Node 20/22 also apply it to each file.
//   TEST_RUN_TIMEOUT_MS  watchdog for the whole run (default 900000 = 15 min,
//                        0 = none); kills the runner and exits 1. Needed because
//                        Node 24 waits forever for a file that leaks a handle.
//   TEST_FORCE_EXIT=1    add --test-force-exit
//   TEST_REPORTER        add --test-reporter=<value> (e.g. spec, tap, dot)
//   MCP_SDK_ROOT         not read here; passed through to the tests, which
//                        load @modelcontextprotocol/sdk from <dir>/node_modules.
//
// Exit code: the runner's exit code (1 on watchdog timeout or signal).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const testDir = path.resolve(root, env.TEST_BUILD_DIR || path.join('build', 'test'));
const TEST_FILE = /\.test\.(c|m)?js$/;

function log(msg) {
  console.error(`test: ${msg}`);
}

function intFromEnv(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    log(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

function findTestFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEST_FILE.test(entry.name) && statSync(full).isFile()) out.push(full);
    }
  };
  walk(dir);
  const rel = (f) => path.relative(dir, f).split(path.sep).join('/');
  // Plain code-unit order, independent of locale.
  return out.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0)).map((f) => ({ abs: f, rel: rel(f) }));
}

// Which --test-* flags does this node know? (process.allowedNodeEnvironmentFlags
// does not list them, so ask --help.)
function supportedFlags() {
  const r = spawnSync(process.execPath, ['--help'], { encoding: 'utf8' });
  const help = r.stdout || '';
  return (flag) => help.includes(flag);
}

const filters = [];
const nodeFlags = [];
for (const arg of process.argv.slice(2)) (arg.startsWith('-') ? nodeFlags : filters).push(arg);

if (!existsSync(testDir) || !statSync(testDir).isDirectory()) {
  log(`test dir ${path.relative(root, testDir) || '.'} does not exist; run \`npm run build\` first`);
  process.exit(1);
}
const all = findTestFiles(testDir);
const files = filters.length ? all.filter((f) => filters.some((s) => f.rel.includes(s))) : all;
if (all.length === 0) {
  log(`no *.test.js files under ${path.relative(root, testDir) || '.'}; run \`npm run build\` first`);
  process.exit(1);
}
if (files.length === 0) {
  log(`no test file matches ${filters.map((s) => JSON.stringify(s)).join(', ')}; available:`);
  for (const f of all) console.error(`  ${f.rel}`);
  process.exit(1);
}

const concurrency = intFromEnv('TEST_CONCURRENCY', 1) || 1;
const timeout = intFromEnv('TEST_TIMEOUT', 120000);
const runTimeout = intFromEnv('TEST_RUN_TIMEOUT_MS', 15 * 60 * 1000);
const has = supportedFlags();

const args = ['--test'];
if (has('--test-concurrency')) args.push(`--test-concurrency=${concurrency}`);
else if (concurrency !== 1) log(`node ${process.version} has no --test-concurrency; ignoring TEST_CONCURRENCY`);
if (timeout > 0) {
  if (has('--test-timeout')) args.push(`--test-timeout=${timeout}`);
  else log(`node ${process.version} has no --test-timeout; running without per-test timeout`);
}
if (env.TEST_FORCE_EXIT === '1') {
  if (has('--test-force-exit')) args.push('--test-force-exit');
  else log(`node ${process.version} has no --test-force-exit; ignoring TEST_FORCE_EXIT`);
}
if (env.TEST_REPORTER) args.push(`--test-reporter=${env.TEST_REPORTER}`);
args.push(...nodeFlags);
// Paths relative to the repo root (the child's cwd) when possible: shorter output.
args.push(...files.map((f) => {
  const r = path.relative(root, f.abs);
  return r.startsWith('..') || path.isAbsolute(r) ? f.abs : r;
}));

log(
  `node ${process.version}, ${files.length}/${all.length} file(s), concurrency ${concurrency}, ` +
    `timeout ${timeout || 'none'}ms, MCP SDK from ${env.MCP_SDK_ROOT ? env.MCP_SDK_ROOT : 'repo node_modules'}`,
);

const started = Date.now();
// Own process group, so the watchdog can kill the runner and every test process.
const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit', detached: true });

function killGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

let timedOut = false;
const watchdog =
  runTimeout > 0
    ? setTimeout(() => {
        timedOut = true;
        log(`run exceeded TEST_RUN_TIMEOUT_MS=${runTimeout}; killing test processes`);
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), 5000).unref();
      }, runTimeout)
    : undefined;

// The child is not in the terminal's foreground group: forward Ctrl-C / TERM.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => killGroup(sig));
}

child.on('error', (err) => {
  log(`failed to start node: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (watchdog) clearTimeout(watchdog);
  // Reap anything the runner left behind (e.g. a server a test forgot to stop).
  killGroup('SIGKILL');
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (timedOut) {
    log(`FAILED: timed out after ${secs}s`);
    process.exit(1);
  }
  if (signal) {
    log(`FAILED: runner killed by ${signal} after ${secs}s`);
    process.exit(1);
  }
  log(`${code === 0 ? 'passed' : `FAILED (exit code ${code})`} in ${secs}s`);
  process.exit(code ?? 1);
});
