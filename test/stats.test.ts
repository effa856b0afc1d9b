/*
 * `mcp-otel stats`: the table and the JSON of a known log, exact; figures against values computed
 * here from the lines (counts, errors and mean exact, percentiles within the stated precision of the
 * exact nearest-rank percentiles); standard input; malformed and foreign lines counted and skipped;
 * exit statuses; and constant memory: two million lines through a 16 MB heap, which a list of the
 * latencies alone would not fit in.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, REPO_ROOT } from './helpers/sdk';
import { seededRandom } from './helpers/random';

const CLI = path.join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
const CHILD_TIMEOUT_MS = 120_000;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-stats-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

interface Group {
  side: string;
  method: string;
  tool?: string;
  prompt?: string;
  count: number;
  errors: number;
  error_rate: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

interface Report {
  source: string;
  lines: number;
  operations: number;
  skipped: { malformed: number; foreign: number };
  precision: string;
  groups: Group[];
}

function stats(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'stats', ...args], {
    input: input ?? '',
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function statsJson(args: string[], input?: string): Report {
  const r = stats(['--json', ...args], input);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

/** The exact nearest-rank percentile of sorted values. */
function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!;
}

/** The precision `mcp-otel stats --help` states: within 0.1% + 0.001 ms. */
function assertWithinPrecision(actual: number, exact: number, what: string): void {
  assert.ok(Math.abs(actual - exact) <= exact * 0.001 + 0.001, `${what}: ${actual} vs exact ${exact}`);
}

describe('mcp-otel stats', () => {
  test('the table of a known log, exact', () => {
    const r = stats([fixture('log-sample.jsonl')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      [
        'side    method       tool/prompt  count  errors   err%     mean      p50      p95      p99      max',
        'client  prompts/get  greet            1       0   0.0%    5.500    5.500    5.500    5.500    5.500',
        'server  tools/call   fast             4       0   0.0%    2.500    2.000    4.000    4.000    4.000',
        'server  tools/call   slow             2       1  50.0%  150.000  100.031  200.000  200.000  200.000',
        '',
        `latencies in ms; 7 operation(s) from 9 line(s) of ${fixture('log-sample.jsonl')}; skipped 1 malformed and 1 foreign line(s)`,
        'p50/p95/p99 within 0.1% + 0.001 ms (HdrHistogram, 3 significant digits); count, errors, mean, max exact',
        '',
      ].join('\n'),
    );
  });

  test('--json of the same log, exact; the same from standard input', () => {
    const fromFile = statsJson([fixture('log-sample.jsonl')]);
    assert.deepEqual(fromFile.groups, [
      { side: 'client', method: 'prompts/get', prompt: 'greet', count: 1, errors: 0, error_rate: 0, mean_ms: 5.5, p50_ms: 5.5, p95_ms: 5.5, p99_ms: 5.5, max_ms: 5.5 },
      { side: 'server', method: 'tools/call', tool: 'fast', count: 4, errors: 0, error_rate: 0, mean_ms: 2.5, p50_ms: 2, p95_ms: 4, p99_ms: 4, max_ms: 4 },
      { side: 'server', method: 'tools/call', tool: 'slow', count: 2, errors: 1, error_rate: 0.5, mean_ms: 150, p50_ms: 100.031, p95_ms: 200, p99_ms: 200, max_ms: 200 },
    ]);
    assert.deepEqual(
      { lines: fromFile.lines, operations: fromFile.operations, skipped: fromFile.skipped },
      { lines: 9, operations: 7, skipped: { malformed: 1, foreign: 1 } },
    );
    assert.match(fromFile.precision, /0\.1% \+ 0\.001 ms/);
    const text = fs.readFileSync(fixture('log-sample.jsonl'), 'utf8');
    for (const args of [[], ['-']]) {
      const fromStdin = statsJson(args, text);
      assert.equal(fromStdin.source, '-');
      assert.deepEqual({ ...fromStdin, source: fromFile.source }, fromFile);
    }
  });

  test('figures against the exact ones: 20,000 operations in five groups', () => {
    const random = seededRandom(20260105);
    const groups = [
      { side: 'server', method: 'tools/call', tool: 'instant', scale: 0.3, failRate: 0 },
      { side: 'server', method: 'tools/call', tool: 'search', scale: 25, failRate: 0.05 },
      { side: 'server', method: 'tools/call', tool: 'report', scale: 400, failRate: 0.3 },
      { side: 'client', method: 'tools/call', tool: 'search', scale: 27, failRate: 0.05 },
      { side: 'server', method: 'prompts/get', prompt: 'greet', scale: 2, failRate: 0.01 },
    ];
    const exact = groups.map(() => ({ latencies: [] as number[], errors: 0, sum: 0 }));
    let text = '';
    for (let i = 0; i < 20_000; i++) {
      const g = Math.floor(random() * groups.length);
      const group = groups[g]!;
      // Long-tailed, with the nanosecond decimals real lines have.
      const latency = Math.round(group.scale * Math.exp(2 * random() * random() * 3) * 1e6) / 1e6;
      const ok = random() >= group.failRate;
      exact[g]!.latencies.push(latency);
      exact[g]!.sum += latency;
      if (!ok) exact[g]!.errors++;
      const target = group.tool !== undefined ? `"tool":"${group.tool}"` : `"prompt":"${group.prompt}"`;
      text +=
        `{"ts":"2026-01-05T10:00:00.000Z","level":"${ok ? 'info' : 'error'}","side":"${group.side}","method":"${group.method}",${target},` +
        `"latency_ms":${latency},"ok":${ok}${ok ? '' : ',"error":{"type":"tool_error"}'},"trace_id":"t","span_id":"s"}\n`;
      if (i % 5000 === 0) text += '{"truncated": \n[1,2,3]\n{"side":"server","method":"tools/call","latency_ms":"12","ok":true}\n';
    }
    const file = path.join(tmpRoot, 'random.log');
    fs.writeFileSync(file, text);
    const report = statsJson([file]);
    assert.deepEqual(report.skipped, { malformed: 8, foreign: 4 });
    assert.equal(report.operations, 20_000);
    assert.equal(report.groups.length, groups.length);
    for (const [g, group] of groups.entries()) {
      const row = report.groups.find((r) => r.side === group.side && r.method === group.method && r.tool === group.tool && r.prompt === group.prompt);
      assert.ok(row !== undefined, `a row for ${JSON.stringify(group)}`);
      const e = exact[g]!;
      const sorted = [...e.latencies].sort((a, b) => a - b);
      const label = `${group.side} ${group.method} ${group.tool ?? group.prompt}`;
      assert.equal(row.count, e.latencies.length, `${label} count`);
      assert.equal(row.errors, e.errors, `${label} errors`);
      assert.equal(row.error_rate, e.errors / e.latencies.length, `${label} error rate`);
      assert.ok(Math.abs(row.mean_ms - e.sum / e.latencies.length) <= 1e-6, `${label} mean ${row.mean_ms} vs ${e.sum / e.latencies.length}`);
      assert.equal(row.max_ms, sorted[sorted.length - 1], `${label} max`);
      for (const p of [50, 95, 99] as const) {
        assertWithinPrecision(row[`p${p}_ms`], nearestRank(sorted, p), `${label} p${p}`);
      }
    }
  });

  test('malformed and foreign lines are counted and skipped, never a crash', () => {
    const lines = [
      '',
      '   ',
      'not json at all',
      '{"unterminated": ',
      'null',
      '42',
      '"a string"',
      '[{"side":"server"}]',
      '\u0000\u0001 binary \uFFFD',
      '{"msg":"another logger"}',
      '{"side":"server","method":"tools/call","latency_ms":-1,"ok":true}',
      '{"side":"server","method":"tools/call","latency_ms":1e400,"ok":true}',
      '{"side":"server","method":"tools/call","latency_ms":1,"ok":"yes"}',
      '{"side":"nobody","method":"tools/call","latency_ms":1,"ok":true}',
      '{"side":"server","method":"","latency_ms":1,"ok":true}',
      '{"side":"server","method":"tools/call","tool":7,"latency_ms":1,"ok":true}',
      '{"side":"server","method":"tools/call","tool":"ok","latency_ms":1.25,"ok":true}',
    ];
    const report = statsJson([], `${lines.join('\r\n')}\n`);
    assert.deepEqual(report.skipped, { malformed: 7, foreign: 7 });
    assert.equal(report.lines, 15, 'blank lines are not counted');
    assert.equal(report.operations, 1);
    assert.deepEqual(report.groups.map((g) => [g.tool, g.count, g.mean_ms]), [['ok', 1, 1.25]]);
  });

  test('an empty log: no rows, status 0', () => {
    const report = statsJson([], '');
    assert.deepEqual({ lines: report.lines, operations: report.operations, groups: report.groups }, { lines: 0, operations: 0, groups: [] });
  });

  test('exit statuses: 2 for usage errors, 1 for an unreadable file, 0 for --help', () => {
    for (const args of [['--bogus'], ['a.log', 'b.log'], ['--json=yes']]) {
      const r = stats(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: mcp-otel stats/);
      assert.equal(r.stdout, '');
    }
    const missing = stats([path.join(tmpRoot, 'no-such.log')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read .*no-such\.log.*ENOENT/);
    const directory = stats([tmpRoot]);
    assert.equal(directory.status, 1);
    assert.match(directory.stderr, /is a directory/);
    const help = stats(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: mcp-otel stats \[FILE\] \[--json\]/);
    assert.match(help.stdout, /within\s+0\.1% \+ 0\.001 ms of the exact nearest-rank percentile/);
    assert.equal(spawnSync(process.execPath, [CLI, 'stats', '-h'], { encoding: 'utf8' }).status, 0);
  });

  test('constant memory: 2,000,000 lines through a 16 MB heap', async () => {
    const total = 2_000_000;
    const child = spawn(process.execPath, ['--max-old-space-size=16', CLI, 'stats', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.stdin.on('error', () => {}); // a crash shows in the exit status
    const tools = ['a', 'b', 'c', 'd'];
    const sums = [0, 0, 0, 0];
    let errors = 0;
    let chunk = '';
    for (let i = 0; i < total; i++) {
      const latency = ((i * 7919) % 100_000) / 1000;
      const ok = i % 10 !== 0;
      sums[i % 4]! += latency;
      if (!ok) errors++;
      chunk += `{"side":"server","method":"tools/call","tool":"${tools[i % 4]}","latency_ms":${latency},"ok":${ok}}\n`;
      if (chunk.length >= 1 << 16) {
        if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
        chunk = '';
      }
    }
    child.stdin.end(chunk);
    assert.equal(await exited, 0, stderr.slice(0, 2000));
    const report = JSON.parse(stdout) as Report;
    assert.equal(report.operations, total);
    assert.deepEqual(
      report.groups.map((g) => [g.tool, g.count]),
      tools.map((t) => [t, total / 4]),
    );
    assert.equal(report.groups.reduce((n, g) => n + g.errors, 0), errors);
    report.groups.forEach((g, i) => assert.ok(Math.abs(g.mean_ms - sums[i]! / (total / 4)) <= 1e-6, `mean of ${g.tool}`));
  });
});
