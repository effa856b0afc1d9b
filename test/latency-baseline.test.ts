/*
 * The lesson's exercise, run for real: examples/latency-baseline calls each tool of a stdio server
 * 10 times and leaves the server's JSON-line log. Then the jq command of the example's README, run
 * as written with the real jq, must give the per-tool averages computed here from the log's own
 * lines, and `mcp-otel stats --json` the same counts, errors and means, and percentiles within its
 * stated precision.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './helpers/sdk';
import { v1Only } from './helpers/mcp';

/** On MCP_SDK_MAJOR=2 this file skips: examples/latency-baseline is written against @modelcontextprotocol/sdk 1.x. */
const V1_ONLY = v1Only('examples/latency-baseline is written against @modelcontextprotocol/sdk 1.x');

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'latency-baseline');
const CLI = path.join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
const LOG_NAME = 'latency-baseline.log';
const TIMEOUT_MS = 120_000;
const TOOLS = ['instant', 'lookup', 'report', 'search'];

function hasJq(): boolean {
  const r = spawnSync('jq', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** The jq command line of the example's README: the one line in a sh block that starts with `jq -s`. */
function readmeJqCommand(): string {
  const readme = fs.readFileSync(path.join(EXAMPLE, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands = blocks.flatMap((b) => b.split('\n')).filter((line) => line.startsWith('jq -s '));
  assert.equal(commands.length, 1, 'exactly one `jq -s` command in the README');
  assert.ok(commands[0]!.endsWith(` ${LOG_NAME}`), 'it reads the log the example writes');
  return commands[0]!;
}

interface Line {
  side: string;
  method: string;
  tool?: string;
  latency_ms: number;
  ok: boolean;
  transport?: string;
  peer_name?: string;
}

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!;
}

describe('the latency baseline example', { skip: V1_ONLY }, () => {
  const skip = hasJq() ? false : 'jq is not installed (apt-get install jq); .ci/run installs it';

  test('run it, then the README\'s jq pipeline and mcp-otel stats agree with the log', { skip }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-latency-baseline-'));
    try {
      const run = spawnSync(process.execPath, [path.join(EXAMPLE, 'run.cjs'), LOG_NAME], { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS });
      assert.equal(run.status, 0, `run.cjs failed: ${run.stderr}`);
      assert.equal(run.stdout, `called 4 tools 10 times each; log: ${path.join(dir, LOG_NAME)}\n`);
      assert.equal(run.stderr, '', 'the log went to its file, nothing else to stderr');

      // The log's own figures.
      const text = fs.readFileSync(path.join(dir, LOG_NAME), 'utf8');
      assert.ok(text.endsWith('\n'));
      const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Line);
      const calls = lines.filter((l) => l.method === 'tools/call');
      assert.deepEqual(
        lines.filter((l) => l.method !== 'tools/call').map((l) => l.method),
        ['initialize', 'notifications/initialized', 'tools/list'],
      );
      const byTool = new Map<string, Line[]>();
      for (const line of calls) {
        assert.equal(line.side, 'server');
        assert.equal(line.transport, 'pipe');
        assert.equal(line.peer_name, 'latency-baseline-runner');
        byTool.set(line.tool!, [...(byTool.get(line.tool!) ?? []), line]);
      }
      assert.deepEqual([...byTool.keys()].sort(), TOOLS);
      const figures = TOOLS.map((tool) => {
        const own = byTool.get(tool)!;
        const sum = own.reduce((s, l) => s + l.latency_ms, 0);
        return { tool, calls: own.length, errors: own.filter((l) => !l.ok).length, avg: sum / own.length, sorted: own.map((l) => l.latency_ms).sort((a, b) => a - b) };
      });
      for (const f of figures) assert.equal(f.calls, 10, `${f.tool}: 10 calls`);
      assert.deepEqual(figures.map((f) => f.errors), [0, 0, 3, 0], 'report fails one call in three');
      // The tools' speeds show: instant < lookup < search < report.
      const avg = Object.fromEntries(figures.map((f) => [f.tool, f.avg]));
      assert.ok(avg.instant! < avg.lookup! && avg.lookup! < avg.search! && avg.search! < avg.report!, JSON.stringify(avg));

      // The README's jq pipeline, as written.
      const jq = execFileSync('sh', ['-c', readmeJqCommand()], { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS });
      const rows = jq.trim().split('\n').map((l) => JSON.parse(l) as { tool: string; calls: number; errors: number; avg_ms: number });
      assert.deepEqual(rows.map((r) => [r.tool, r.calls, r.errors]), figures.map((f) => [f.tool, f.calls, f.errors]));
      for (const [i, row] of rows.entries()) {
        // The pipeline rounds to the microsecond.
        assert.ok(Math.abs(row.avg_ms - Math.round(figures[i]!.avg * 1000) / 1000) < 1e-9, `${row.tool}: jq ${row.avg_ms} vs ${figures[i]!.avg}`);
      }

      // mcp-otel stats on the same log.
      const stats = JSON.parse(execFileSync(process.execPath, [CLI, 'stats', '--json', LOG_NAME], { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS })) as {
        groups: Array<{ side: string; method: string; tool?: string; count: number; errors: number; mean_ms: number; p50_ms: number; p95_ms: number; p99_ms: number; max_ms: number }>;
      };
      const toolRows = stats.groups.filter((g) => g.method === 'tools/call');
      assert.deepEqual(toolRows.map((g) => [g.side, g.tool, g.count, g.errors]), figures.map((f) => ['server', f.tool, f.calls, f.errors]));
      for (const [i, g] of toolRows.entries()) {
        const f = figures[i]!;
        assert.ok(Math.abs(g.mean_ms - f.avg) <= 1e-6, `${f.tool} mean ${g.mean_ms} vs ${f.avg}`);
        assert.equal(g.max_ms, f.sorted[f.sorted.length - 1]);
        for (const p of [50, 95, 99] as const) {
          const exact = nearestRank(f.sorted, p);
          const got = g[`p${p}_ms`];
          assert.ok(Math.abs(got - exact) <= exact * 0.001 + 0.001, `${f.tool} p${p}: ${got} vs exact ${exact}`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
