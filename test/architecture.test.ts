/*
 * The shape the project promises its readers: no import cycle in src/ (type-only imports included), no
 * source file over 450 lines, each opening with a sentence of its job, and a root import that loads
 * neither the JSON log's writer, the audit, nor the CLI's dependencies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..');
const SRC = path.join(REPO, 'src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.m?ts$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|require\('(\.[^']+)'\)|import\('(\.[^']+)'\)/g;

/** Relative imports of one file, resolved to source files (`.js` specifiers of `.mts` entries included). */
function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = (match[1] ?? match[2] ?? match[3])!;
    const base = path.resolve(path.dirname(file), spec.replace(/\.m?js$/, ''));
    const candidates = [`${base}.ts`, `${base}.mts`, path.join(base, 'index.ts')];
    const hit = candidates.find((c) => known.has(c));
    if (hit !== undefined && hit !== file) out.push(hit);
  }
  return out;
}

/** Every cycle found by a depth-first walk, as a list of files relative to src/. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') cycles.push(stack.slice(stack.indexOf(next)).concat(next));
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

describe('the shape of src/', () => {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

  test('the cycle finder finds a cycle (so that the next test can fail)', () => {
    assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', []]])), []);
  });

  test('no import cycle, type-only imports included', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, known)]));
    assert.ok([...graph.values()].some((edges) => edges.length > 0), 'the import scan found imports');
    const cycles = findCycles(graph).map((cycle) => cycle.map(rel).join(' -> '));
    assert.deepEqual(cycles, []);
  });

  test('connection.ts is the ground floor: it imports only types, constants and the length cap of this package', () => {
    const imports = importsOf(path.join(SRC, 'connection.ts'), known).map(rel).sort();
    assert.deepEqual(imports, ['content/cut.ts', 'internal-types.ts', 'semconv.ts', 'types.ts']);
  });

  test('no source file over 450 lines, and each opens with a comment stating its job', () => {
    const long: string[] = [];
    const silent: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      if (text.split('\n').length > 450) long.push(`${rel(file)} (${text.split('\n').length})`);
      const head = text.replace(/^#!.*\n/, '').trimStart();
      if (!head.startsWith('/*') && !head.startsWith('//')) silent.push(rel(file));
    }
    assert.deepEqual(long, []);
    assert.deepEqual(silent, []);
  });
});

describe('a package that packs itself', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    files: string[];
    exports: Record<string, string | Record<string, string>>;
    bin: Record<string, string>;
  };

  test('prepack builds, and what the exports and the bin name is in the files shipped and in the build', () => {
    assert.match(pkg.scripts.prepack ?? '', /npm run build/);
    assert.ok(pkg.files.includes('build/src'));
    const targets = Object.values(pkg.exports).flatMap((entry) => (typeof entry === 'string' ? [entry] : Object.values(entry)));
    targets.push(...Object.values(pkg.bin));
    for (const target of targets) {
      const file = path.join(REPO, target);
      assert.ok(statSync(file, { throwIfNoEntry: false })?.isFile() === true, `${target} is built`);
    }
    assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './audit', './json-log', './package.json', './register']);
  });
});

describe('a light root', () => {
  const HEAVY = ['sonic-boom', 'pino-roll', 'hdr-histogram-js', 'date-fns'];

  function loadedBy(script: string): string[] {
    const result = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as string[];
  }

  const LIST = `process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;

  test('require of the root loads none of the JSON log writer, the audit, or the CLI dependencies', () => {
    const loaded = loadedBy(`require('opentelemetry-instrumentation-mcp'); ${LIST}`);
    for (const name of HEAVY) assert.ok(!loaded.some((f) => f.includes(`${path.sep}node_modules${path.sep}${name}${path.sep}`)), `${name} loaded`);
    const own = loaded.filter((f) => f.startsWith(path.join(REPO, 'build', 'src')));
    assert.ok(own.length > 0);
    assert.deepEqual(own.filter((f) => /[\\/](audit|json-log|cli)[\\/]/.test(f)), []);
  });

  test('the subpath exports load what they are for', () => {
    const loaded = loadedBy(`const l = require('opentelemetry-instrumentation-mcp/json-log'); if (typeof l.JsonLogSpanProcessor !== 'function') process.exit(3); ${LIST}`);
    assert.ok(loaded.some((f) => f.includes(`${path.sep}json-log${path.sep}`)));
    const audit = loadedBy(`const a = require('opentelemetry-instrumentation-mcp/audit'); if (typeof a.AuditSpanProcessor !== 'function' || typeof a.verifyAuditTrail !== 'function') process.exit(3); ${LIST}`);
    assert.ok(audit.some((f) => f.includes(`${path.sep}audit${path.sep}`)));
  });

  test('the ESM entries re-export the CommonJS classes (one copy per process)', () => {
    const script = `
      const root = await import('opentelemetry-instrumentation-mcp');
      const log = await import('opentelemetry-instrumentation-mcp/json-log');
      const audit = await import('opentelemetry-instrumentation-mcp/audit');
      const { createRequire } = await import('node:module');
      const require = createRequire(process.cwd() + '/');
      const same = root.McpInstrumentation === require('opentelemetry-instrumentation-mcp').McpInstrumentation
        && log.JsonLogSpanProcessor === require('opentelemetry-instrumentation-mcp/json-log').JsonLogSpanProcessor
        && audit.AuditSpanProcessor === require('opentelemetry-instrumentation-mcp/audit').AuditSpanProcessor;
      process.stdout.write(String(same));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'true');
  });
});
