#!/usr/bin/env node
// Build and test against one OpenTelemetry JS "line" with a chosen Node binary.
//
//   node scripts/otel-lines.mjs --line a|b [--node <node binary>] [options] [-- test.mjs args...]
//
//   --line a   the repo itself (devDependencies: api ~1.9, SDK 2.x, instrumentation 0.2xx);
//              runs scripts/build.mjs and scripts/test.mjs in the repo.
//   --line b   api ~1.10, SDK 3.x, instrumentation/sdk-node 0.301 (needs Node >= 22.15).
//              Prepares a copy in .cache/line-b/: package.json with the line-B
//              versions (no lockfile), `npm install` (skipped while package.json is
//              unchanged), fresh copies of src/ test/ examples/ scripts/ tsconfig.json,
//              then builds and tests there.
//   --node P   node binary to build and test with (default: the one running this
//              script). Its directory is put first in PATH, so `node` and `npm` in
//              child processes use it too.
//
// Options: --skip-build (line a only), --reinstall (line b), --dir D (line-b dir,
// default .cache/line-b), --allow-fallback (line b: only warn when a package
// imported by src/test/examples is missing from the line-B install and would
// silently resolve to the repo's own node_modules), --force (run line b on Node < 22.15).
//
// Environment is passed through (MCP_SDK_ROOT, TEST_* of scripts/test.mjs).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (p) => {
  const r = path.relative(root, p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
};
const log = (msg) => console.error(`otel-lines: ${msg}`);

// Line B: the versions that replace line A's in the copied package.json. Only
// packages already listed in package.json (dependencies or devDependencies) are
// replaced; entries not used today are here so adding them later just works.
const LINE_B = {
  '@opentelemetry/api': '~1.10.0',
  '@opentelemetry/instrumentation': '^0.301.0',
  '@opentelemetry/sdk-trace': '^3.0.0',
  '@opentelemetry/sdk-metrics': '^3.0.0',
  '@opentelemetry/core': '^3.0.0',
  '@opentelemetry/context-async-hooks': '^3.0.0',
  '@opentelemetry/sdk-node': '^0.301.0',
  '@opentelemetry/instrumentation-http': '^0.301.0',
  '@opentelemetry/resources': '^3.0.0',
  '@opentelemetry/sdk-logs': '^3.0.0',
  '@opentelemetry/propagator-b3': '^3.0.0',
  '@opentelemetry/exporter-zipkin': '^3.0.0',
  '@opentelemetry/configuration': '^0.301.0',
  '@opentelemetry/otlp-transformer': '^0.301.0',
  '@opentelemetry/otlp-exporter-base': '^0.301.0',
  '@opentelemetry/exporter-prometheus': '^0.301.0',
  '@opentelemetry/exporter-trace-otlp-http': '^0.301.0',
  '@opentelemetry/exporter-trace-otlp-proto': '^0.301.0',
  '@opentelemetry/exporter-trace-otlp-grpc': '^0.301.0',
  '@opentelemetry/exporter-metrics-otlp-http': '^0.301.0',
  '@opentelemetry/exporter-metrics-otlp-proto': '^0.301.0',
  '@opentelemetry/exporter-metrics-otlp-grpc': '^0.301.0',
  '@opentelemetry/auto-instrumentations-node': '^0.82.0',
};
// No release in line B (latest are 2.x / 0.223.x, which peer-depend on api < 1.10):
// dropped from the line-B package.json. Code that imports them fails the fallback check.
const NOT_IN_LINE_B = [
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/api-logs',
  '@opentelemetry/propagator-jaeger',
];
// Same across lines.
const LINE_INDEPENDENT = ['@opentelemetry/semantic-conventions'];
const LINE_B_MIN_NODE = [22, 15, 0];
const SYNCED = ['src', 'test', 'examples', 'scripts', 'dashboards', 'docs', 'tsconfig.json', 'README.md', 'CHANGELOG.md', 'LICENSE'];

function parseArgs(argv) {
  const opts = { line: undefined, node: process.execPath, dir: path.join(root, '.cache', 'line-b'), testArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--') {
      opts.testArgs = argv.slice(i + 1);
      break;
    } else if (a === '--line') opts.line = value().toLowerCase();
    else if (a.startsWith('--line=')) opts.line = a.slice(7).toLowerCase();
    else if (a === '--node') opts.node = path.resolve(value());
    else if (a.startsWith('--node=')) opts.node = path.resolve(a.slice(7));
    else if (a === '--dir') opts.dir = path.resolve(value());
    else if (a === '--skip-build') opts.skipBuild = true;
    else if (a === '--reinstall') opts.reinstall = true;
    else if (a === '--allow-fallback') opts.allowFallback = true;
    else if (a === '--force') opts.force = true;
    else usage(`unknown argument ${a}`);
  }
  if (opts.line !== 'a' && opts.line !== 'b') usage('--line a|b is required');
  return opts;
}

function usage(msg) {
  console.error(`otel-lines: ${msg}`);
  console.error('usage: node scripts/otel-lines.mjs --line a|b [--node <node binary>] [--skip-build] [--reinstall] [--dir <dir>] [--allow-fallback] [--force] [-- test args]');
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const nodeDir = path.dirname(opts.node);
const env = { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH || ''}` };

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, stdio: 'inherit' });
  if (r.error) {
    log(`could not start ${cmd}: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

function section(title) {
  console.error(`\n----- ${title} -----`);
}

function finish(code, what) {
  log(`${what}: ${code === 0 ? 'PASS' : 'FAIL'}`);
  process.exit(code === 0 ? 0 : 1);
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

// --- the node binary ---------------------------------------------------------
if (!existsSync(opts.node)) usage(`node binary not found: ${opts.node}`);
const probe = spawnSync(opts.node, ['-p', 'process.version'], { encoding: 'utf8' });
if (probe.status !== 0) usage(`cannot run ${opts.node}: ${probe.error?.message || probe.stderr}`);
const nodeVersion = probe.stdout.trim();
const what = `line ${opts.line.toUpperCase()} on node ${nodeVersion}`;
log(`${what} (${rel(opts.node)})`);

// --- line A: the repo as is -----------------------------------------------------
if (opts.line === 'a') {
  if (!opts.skipBuild) {
    section(`build (${what})`);
    if (run(opts.node, [path.join(root, 'scripts', 'build.mjs')], root) !== 0) finish(1, what);
  }
  section(`test (${what})`);
  finish(run(opts.node, [path.join(root, 'scripts', 'test.mjs'), ...opts.testArgs], root), what);
}

// --- line B: a copy with the line-B versions ---------------------------------------
const [maj, min, pat] = nodeVersion.replace(/^v/, '').split('.').map(Number);
const [rmaj, rmin, rpat] = LINE_B_MIN_NODE;
if (maj < rmaj || (maj === rmaj && (min < rmin || (min === rmin && pat < rpat)))) {
  const msg = `line B needs node >= ${LINE_B_MIN_NODE.join('.')}, got ${nodeVersion}`;
  if (!opts.force) usage(`${msg} (use --force to try anyway)`);
  log(`warning: ${msg}`);
}

const dir = opts.dir;
// The copy step deletes <dir>/src etc.: never let <dir> be the repo or above it.
if (!path.relative(root, dir) || !path.relative(dir, root).startsWith('..')) usage(`--dir must not be the repo or a parent of it: ${dir}`);
mkdirSync(dir, { recursive: true });

// 1. package.json with the line-B versions.
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const changes = [];
for (const field of ['dependencies', 'devDependencies']) {
  const deps = pkg[field];
  if (!deps) continue;
  for (const name of Object.keys(deps)) {
    if (Object.hasOwn(LINE_B, name)) {
      if (deps[name] !== LINE_B[name]) changes.push(`${field}: ${name} ${deps[name]} -> ${LINE_B[name]}`);
      deps[name] = LINE_B[name];
    } else if (NOT_IN_LINE_B.includes(name)) {
      changes.push(`${field}: ${name} ${deps[name]} -> (dropped: no line-B release)`);
      delete deps[name];
    } else if (name.startsWith('@opentelemetry/') && !LINE_INDEPENDENT.includes(name)) {
      log(`warning: ${field} ${name}@${deps[name]} has no line-B mapping in scripts/otel-lines.mjs; kept as is`);
    }
  }
}
section(`prepare ${rel(dir)} (${what})`);
for (const c of changes) log(c);
const pkgText = `${JSON.stringify(pkg, null, 2)}\n`;
const stampFile = path.join(dir, '.install-stamp');
const stamp = createHash('sha256').update(pkgText).digest('hex');
const upToDate =
  !opts.reinstall &&
  existsSync(path.join(dir, 'node_modules')) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8').trim() === stamp;

// 2. npm install (no lockfile: resolve the line-B ranges fresh).
if (upToDate) {
  log('dependencies up to date (package.json unchanged since last install)');
} else {
  rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
  rmSync(path.join(dir, 'package-lock.json'), { force: true });
  rmSync(stampFile, { force: true });
  writeFileSync(path.join(dir, 'package.json'), pkgText);
  rmSync(path.join(dir, '.npmrc'), { force: true });
  if (existsSync(path.join(root, '.npmrc'))) cpSync(path.join(root, '.npmrc'), path.join(dir, '.npmrc'));
  const t0 = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const code = run(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
  log(`npm install: exit ${code} after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  if (code !== 0) finish(code, what);
  writeFileSync(stampFile, `${stamp}\n`);
}

// Installed versions of everything pinned above (plus nested copies, which make
// instanceof checks across packages unreliable).
const nm = path.join(dir, 'node_modules');
const wanted = [...Object.keys(pkg.dependencies || {}), ...Object.keys(pkg.devDependencies || {})]
  .filter((n) => n.startsWith('@opentelemetry/') || n === '@modelcontextprotocol/sdk' || n === 'zod')
  .sort();
for (const name of wanted) {
  log(`  ${name.padEnd(40)} ${readJson(path.join(nm, name, 'package.json'))?.version ?? 'MISSING'}`);
}
const nested = new Map();
const scanNested = (modulesDir, depth) => {
  if (depth > 6 || !existsSync(modulesDir)) return;
  for (const entry of readdirSync(modulesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const pkgDirs = entry.name.startsWith('@')
      ? readdirSync(path.join(modulesDir, entry.name)).map((n) => `${entry.name}/${n}`)
      : [entry.name];
    for (const name of pkgDirs) {
      const pdir = path.join(modulesDir, name);
      if (depth > 0 && name.startsWith('@opentelemetry/')) {
        const v = readJson(path.join(pdir, 'package.json'))?.version;
        if (v && v !== readJson(path.join(nm, name, 'package.json'))?.version) {
          if (!nested.has(name)) nested.set(name, new Set());
          nested.get(name).add(v);
        }
      }
      scanNested(path.join(pdir, 'node_modules'), depth + 1);
    }
  }
};
scanNested(nm, 0);
if (nested.size) {
  log(`nested copies: ${[...nested].map(([n, vs]) => `${n}@${[...vs].join('/')}`).join(', ')}`);
}

// 3. fresh copies of the sources (copies, not symlinks: Node resolves a
//    symlinked fixture to its real path and would then load the repo's own
//    line-A node_modules).
for (const name of SYNCED) {
  const from = path.join(root, name);
  const to = path.join(dir, name);
  rmSync(to, { recursive: true, force: true });
  if (existsSync(from)) {
    cpSync(from, to, {
      recursive: true,
      dereference: true,
      filter: (src) => path.basename(src) !== 'node_modules',
    });
  }
}

// 4. Fallback check. The copy lives inside the repo, so a package missing from
//    the line-B install would silently resolve to the repo's node_modules
//    (line A). Find bare imports in the copied sources and make sure each one
//    is installed in the line-B tree.
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+|\brequire\.resolve\s*\(\s*)['"]([^'"\n]+)['"]/g;
const imported = new Map();
const scanSources = (d) => {
  if (!existsSync(d)) return;
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const full = path.join(d, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') scanSources(full);
    } else if (/\.(c|m)?(t|j)s$/.test(entry.name)) {
      for (const m of readFileSync(full, 'utf8').matchAll(SPEC)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtins.has(spec)) continue;
        if (!/^(@[\w.-]+\/)?[\w.-]+(\/.*)?$/.test(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (builtins.has(name) || name === pkg.name) continue;
        if (!imported.has(name)) imported.set(name, path.relative(dir, full));
      }
    }
  }
};
for (const d of ['src', 'test', 'examples']) scanSources(path.join(dir, d));
const typesName = (n) => `@types/${n.startsWith('@') ? n.slice(1).replace('/', '__') : n}`;
const fallbacks = [];
for (const [name, where] of imported) {
  if (existsSync(path.join(nm, name)) || existsSync(path.join(nm, typesName(name)))) continue;
  // Is there a copy further up (the repo's node_modules)?
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    if (existsSync(path.join(up, 'node_modules', name))) {
      fallbacks.push(`${name} (imported in ${where}) is not in the line-B install; it would load ${rel(path.join(up, 'node_modules', name))}`);
      break;
    }
    if (path.dirname(up) === up) break;
  }
}
for (const f of fallbacks) log(`${opts.allowFallback ? 'warning' : 'error'}: ${f}`);
if (fallbacks.length && !opts.allowFallback) {
  log('add the package to LINE_B in scripts/otel-lines.mjs (or guard the import), or pass --allow-fallback');
  finish(1, what);
}

// 5. build + test in the copy, with the chosen node.
section(`build (${what})`);
if (run(opts.node, [path.join(dir, 'scripts', 'build.mjs')], dir) !== 0) finish(1, what);
section(`test (${what})`);
finish(run(opts.node, [path.join(dir, 'scripts', 'test.mjs'), ...opts.testArgs], dir), what);
