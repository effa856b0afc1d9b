/*
 * `mcp-otel report` through the real CLI: the figures of a known log (the same latency rows as
 * `stats`), several files as rotation leaves them, standard input, time buckets that fit the range,
 * peer-chosen strings escaped, and bad input: malformed lines counted and shown, an empty log, an
 * unreadable log, an unwritable output path, usage errors. Also: the package's root never loads
 * Chart.js. The page in a real browser: report-browser.test.ts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, REPO_ROOT } from './helpers/sdk';

const CLI = path.join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-report-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function cli(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
/** Runs `report ARGS -o <new file>`; the page and its embedded figures. */
function report(args: string[], input = ''): { html: string; figures: Any } {
  const out = path.join(tmp, `r${++n}.html`);
  const r = cli(['report', ...args, '-o', out], input);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '');
  const html = fs.readFileSync(out, 'utf8');
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m !== null, 'the figures are embedded');
  return { html, figures: JSON.parse(m[1]!) };
}

const text = (html: string, id: string): string => {
  const m = new RegExp(`<dd id="${id}">(.*?)</dd>`).exec(html);
  return m === null ? '' : m[1]!.replace(/<[^>]+>/g, '');
};

const line = (o: Record<string, unknown>): string =>
  JSON.stringify({ ts: '2026-01-05T10:00:00.000Z', level: 'info', side: 'server', method: 'tools/call', latency_ms: 1, ok: true, trace_id: 't', span_id: 's', ...o });

describe('mcp-otel report', () => {
  test('a known log: header, outcomes per tool, the same latency rows as stats, slowest with trace ids', () => {
    const { html, figures } = report([fixture('log-sample.jsonl')]);
    assert.equal(text(html, 'range'), '2026-01-05T10:00:00.000Z to 2026-01-05T10:00:00.250Z (250 ms)');
    assert.equal(text(html, 'totals'), '7 (6 server side, 1 client side); 1 failed (14.3%)');
    assert.equal(text(html, 'lines'), '9 read; skipped 1 malformed and 1 foreign (not MCP operations)');
    assert.deepEqual(figures.tools, {
      server: [
        { side: 'server', method: 'tools/call', name: 'fast', ok: 4, errors: [] },
        { side: 'server', method: 'tools/call', name: 'slow', ok: 1, errors: [['tool_error', 1]] },
      ],
      client: [],
    });
    const stats = JSON.parse(cli(['stats', '--json', fixture('log-sample.jsonl')]).stdout);
    assert.deepEqual(figures.toolLatency, stats.groups.filter((g: Any) => g.method === 'tools/call'));
    assert.match(html, /<td>server<\/td><td>tools\/call<\/td><td><code>slow<\/code><\/td><td class="n">2<\/td><td class="n">1<\/td><td class="n">50\.0%<\/td><td class="n">150\.000<\/td><td class="n">100\.031<\/td><td class="n">200\.000<\/td><td class="n">200\.000<\/td><td class="n">200\.000<\/td>/);
    assert.match(html, /<td>2026-01-05T10:00:00\.240Z<\/td><td>server<\/td><td>tools\/call<\/td><td><code>slow<\/code><\/td><td class="n">200\.000<\/td><td><span class="err">tool_error<\/span><\/td><td><code class="id">0af7651916cd43dd8448eb211c80319c<\/code><\/td><td><code class="id">b7ad6b7169203336<\/code><\/td>/);
    // 250 ms of log: 10 ms buckets, 26 of them, every operation in one.
    assert.equal(figures.bucketLabel, '10 ms');
    assert.equal(figures.buckets.length, 26);
    assert.deepEqual(
      figures.buckets.filter((b: Any) => b.server + b.client > 0).map((b: Any) => [b.label, b.server, b.serverErrors, b.client]),
      [['10:00:00.000', 1, 0, 0], ['10:00:00.010', 1, 0, 0], ['10:00:00.020', 1, 0, 0], ['10:00:00.030', 1, 0, 0], ['10:00:00.040', 1, 0, 0], ['10:00:00.240', 1, 1, 0], ['10:00:00.250', 0, 0, 1]],
    );
  });

  test('several files (rotation) and standard input give the figures of the whole', () => {
    const lines = fs.readFileSync(fixture('log-sample.jsonl'), 'utf8').split('\n');
    const a = path.join(tmp, 'ops.1.log');
    const b = path.join(tmp, 'ops.2.log');
    fs.writeFileSync(a, lines.slice(0, 4).join('\n') + '\n');
    fs.writeFileSync(b, lines.slice(4).join('\n'));
    const whole = report([fixture('log-sample.jsonl')]).figures;
    const split = report([a, b]);
    assert.deepEqual(split.figures, whole);
    assert.equal(text(split.html, 'sources'), `${a}, ${b}`);
    const stdin = report([], lines.join('\n'));
    assert.deepEqual(stdin.figures, whole);
    assert.equal(text(stdin.html, 'sources'), 'standard input');
    assert.deepEqual(report(['-'], lines.join('\n')).figures, whole);
  });

  test('time buckets fit the range: two days of log in at most 60 buckets, every operation counted', () => {
    let log = '';
    const start = Date.parse('2026-01-05T00:00:00.000Z');
    for (let i = 0; i < 2000; i++) log += line({ ts: new Date(start + i * 86.4e3).toISOString(), tool: 't', ok: i % 10 !== 0, ...(i % 10 === 0 ? { error: { type: 'tool_error' } } : {}) }) + '\n';
    // Out of order, as concurrent operations and several processes leave them.
    log += line({ ts: '2026-01-04T23:59:59.000Z', tool: 't' }) + '\n';
    const { figures } = report([], log);
    assert.equal(figures.bucketLabel, '1 h');
    assert.equal(figures.buckets.length, 49);
    assert.equal(figures.buckets[0].label, '01-04 23:00');
    assert.equal(figures.buckets.reduce((s: number, b: Any) => s + b.server, 0), 2001);
    assert.equal(figures.buckets.reduce((s: number, b: Any) => s + b.serverErrors, 0), 200);
  });

  test('strings from the log are escaped: a tool named <script> does not make an element', () => {
    const evil = ['<script>alert(1)</script>', '</script><script>alert(2)</script>', '<img src=x onerror=alert(3)>', '"&\'<!--'];
    const log = evil.map((tool) => line({ tool, ok: false, error: { type: `<b>${tool}</b>` }, trace_id: `<i>${tool}`, span_id: tool })).join('\n');
    const { html, figures } = report([], log);
    assert.equal((html.match(/<script/g) ?? []).length, 3, 'the data, Chart.js and the page script: no other script element');
    assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
    assert.doesNotMatch(html, /<img|<b>&|<b><|<i>|<!--/);
    assert.match(html, /<code>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/code>/);
    assert.match(html, /<code>&quot;&amp;&#39;&lt;!--<\/code>/);
    assert.deepEqual(figures.tools.server.map((r: Any) => r.name).sort(), [...evil].sort());
    // Only the page's own scripts may run (hashes in the Content-Security-Policy), and nothing loads.
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'unsafe-inline'; img-src data:;/);
  });

  test('malformed and foreign lines are counted, skipped and shown', () => {
    const log = ['not json', '{"truncated": ', '[1]', '{"msg":"another logger"}', line({ tool: 'ok' }), '', 'null'].join('\n');
    const { html, figures } = report([], log);
    assert.equal(text(html, 'lines'), '6 read; skipped 4 malformed and 1 foreign (not MCP operations)');
    assert.equal(text(html, 'totals'), '1 (1 server side, 0 client side); 0 failed (0.0%)');
    assert.deepEqual(figures.tools.server.map((r: Any) => [r.name, r.ok]), [['ok', 1]]);
  });

  test('an empty log gives a page that says so', () => {
    for (const input of ['', 'garbage\n{"msg":"x"}\n']) {
      const { html, figures } = report([], input);
      assert.match(html, /<p class="empty" id="empty">No MCP operations in this log/);
      assert.doesNotMatch(html, /<canvas/);
      assert.equal(text(html, 'range'), 'no timestamps');
      assert.deepEqual(figures.buckets, []);
    }
  });

  test('exit statuses: 1 unreadable log or unwritable output, 2 usage errors, 0 help', () => {
    const unwritable = cli(['report', fixture('log-sample.jsonl'), '-o', path.join(tmp, 'no-such-dir', 'r.html')]);
    assert.equal(unwritable.status, 1);
    assert.match(unwritable.stderr, /^mcp-otel report: cannot write .*no-such-dir.*r\.html: ENOENT/);
    const directory = cli(['report', fixture('log-sample.jsonl'), '-o', tmp]);
    assert.equal(directory.status, 1);
    assert.match(directory.stderr, /cannot write .*EISDIR/);
    const missing = cli(['report', path.join(tmp, 'no-such.log'), '-o', path.join(tmp, 'x.html')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^mcp-otel report: cannot read .*no-such\.log: ENOENT/);
    for (const args of [['--bogus', '-o', 'x.html'], [fixture('log-sample.jsonl')], ['-o'], ['-o', ''], ['-', '-', '-o', 'x.html'], ['--help=1']]) {
      const r = cli(['report', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: mcp-otel report \[FILE\.\.\.\] -o OUT\.html/, args.join(' '));
      assert.equal(r.stdout, '');
    }
    const help = cli(['report', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: mcp-otel report \[FILE\.\.\.\] -o OUT\.html\n/);
    const toStdout = cli(['report', fixture('log-sample.jsonl'), '-o', '-']);
    assert.equal(toStdout.status, 0);
    assert.match(toStdout.stdout, /^<!DOCTYPE html>/);
  });

  test('the package root never loads Chart.js nor the report command', () => {
    const r = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(REPO_ROOT)}); process.stderr.write(JSON.stringify(Object.keys(require.cache).filter((k) => /node_modules[\\\\/]chart\\.js|[\\\\/]src[\\\\/]cli[\\\\/]/.test(k))))`],
      { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '[]');
  });

  test('constant memory: 500,000 lines over a day through a 16 MB heap', async () => {
    const total = 500_000;
    const out = path.join(tmp, 'big.html');
    const child = spawn(process.execPath, ['--max-old-space-size=16', CLI, 'report', '-o', out], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.stdin.on('error', () => {}); // a crash shows in the exit status
    const start = Date.parse('2026-01-05T00:00:00.000Z');
    let chunk = '';
    for (let i = 0; i < total; i++) {
      const ts = new Date(start + Math.floor((i / total) * 86400e3)).toISOString();
      chunk += `{"ts":"${ts}","side":"server","method":"tools/call","tool":"t${i % 4}","latency_ms":${(i * 7919) % 100_000 / 1000},"ok":${i % 10 !== 0},"trace_id":"${i}"}\n`;
      if (chunk.length >= 1 << 16) {
        if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
        chunk = '';
      }
    }
    child.stdin.end(chunk);
    assert.equal(await exited, 0, stderr.slice(0, 2000));
    const html = fs.readFileSync(out, 'utf8');
    const figures = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    assert.deepEqual(figures.tools.server.map((r: Any) => [r.name, r.ok + r.errors.reduce((n: number, e: Any) => n + e[1], 0)]), [0, 1, 2, 3].map((k) => [`t${k}`, total / 4]));
    assert.equal(figures.bucketLabel, '30 min');
    assert.equal(figures.buckets.reduce((n: number, b: Any) => n + b.server, 0), total);
  });
});
