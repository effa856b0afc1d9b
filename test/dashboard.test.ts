/*
 * dashboards/mcp-overview.json, proven on a real Prometheus: this process runs a known workload (a
 * real instrumented MCP server and client, in memory) with a PrometheusExporter, a real Prometheus
 * scrapes it every second, and every panel's query, with the dashboard's variables substituted as
 * Grafana would, must give the workload's numbers: calls per tool and outcome on each side, error
 * ratio per tool, latency quantiles inside the bounds of the bucket the calls fell in, and the
 * sessions. The template variables' queries must list the service and the tools.
 *
 * Counting windows: `increase()` extrapolates, so the workload runs in two parts. A warm-up makes
 * one call of each tool and outcome and one session (every series then exists, its first sample
 * 1), then after ten scrapes the counted part runs; at the time of the last scrape the increase
 * over the window is the counted part times (span + at most half a scrape) / span: within 5% for
 * a span of ten scrapes, so the rounded counts are exact for counts below 10.
 *
 * Needs the `prometheus` binary (Debian package `prometheus`; CI installs it), like prometheus.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpInstrumentation } from '../src';
import { mcpSdk } from './helpers/mcp';
import { Child, freePorts, instantQuery, PROMETHEUS_SKIP, sleep, startPrometheus, WAIT_MS, type Sample } from './helpers/prometheus';
import { REPO_ROOT } from './helpers/sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const JOB = 'mcp-dashboard-test';
const SLOW_MS = 300;
/** Bucket bounds advised for the duration histograms (seconds). */
const BOUNDS = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

const instrumentation = new McpInstrumentation();
const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'dashboards', 'mcp-overview.json'), 'utf8'));

/** The bucket `[lower, upper]` holding `seconds`. */
function bucketOf(seconds: number): [number, number] {
  const i = BOUNDS.findIndex((b, k) => k > 0 && seconds <= b);
  return i === -1 ? [300, Infinity] : [BOUNDS[i - 1]!, BOUNDS[i]!];
}

/** A query as Grafana sends it with service = this job and every tool, over a one-hour window. */
function substitute(expr: string): string {
  return expr.replaceAll('$service', JOB).replaceAll('$tool', '.*').replaceAll('$__rate_interval', '1h').replaceAll('$__range', '1h');
}

function byLabels(samples: Sample[], labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[labels.map((l) => s.metric[l] ?? '-').join(' ')] = Number(s.value[1]);
  return out;
}

const rounded = (o: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));

describe('the Grafana dashboard on a real Prometheus', { skip: PROMETHEUS_SKIP }, () => {
  let tmp: string;
  let prometheus: Child | undefined;
  let exporter: Any;
  let meterProvider: Any;
  let prometheusPort: number;
  let at: number;
  let sessionSeconds: number;
  /** Every panel's results: panel title → refId → samples. */
  const results = new Map<string, Map<string, Sample[]>>();

  async function query(promql: string, time?: number): Promise<Sample[]> {
    const samples = await instantQuery(prometheusPort, promql, time);
    assert.ok(samples !== undefined, `Prometheus answered ${promql}`);
    return samples;
  }

  async function waitFor(promql: string, expected: number): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    let last: Sample[] | undefined;
    for (;;) {
      last = await instantQuery(prometheusPort, promql);
      if (last !== undefined && last.length === 1 && Number(last[0]!.value[1]) === expected) return;
      if (Date.now() > deadline) assert.fail(`${promql}: expected ${expected}, got ${JSON.stringify(last)}\n${prometheus?.describe()}`);
      await sleep(200);
    }
  }

  /** One session of the workload: `calls` made, then closed; its wall-clock duration in seconds. */
  async function session(calls: Array<[tool: string, args: Record<string, unknown>]>): Promise<number> {
    const mcp = mcpSdk();
    const server = new mcp.McpServer({ name: 'dashboard-server', version: '1.0.0' });
    mcp.tool(server, 'fast', 'Answers at once', {}, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    mcp.tool(server, 'flaky', 'Fails when asked', { fail: mcp.z.boolean() }, async ({ fail }: Any) =>
      fail ? { isError: true, content: [{ type: 'text', text: 'failed' }] } : { content: [{ type: 'text', text: 'ok' }] },
    );
    mcp.tool(server, 'slow', 'Waits', {}, async () => {
      await sleep(SLOW_MS);
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    const client = new mcp.Client({ name: 'dashboard-client', version: '1.0.0' });
    const [clientTransport, serverTransport] = mcp.InMemoryTransport.createLinkedPair();
    const started = performance.now();
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    for (const [name, args] of calls) await mcp.callTool(client, { name, arguments: args });
    await client.close();
    await server.close();
    return (performance.now() - started) / 1000;
  }

  before(async () => {
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    let metricsPort: number;
    [metricsPort, prometheusPort] = (await freePorts(2)) as [number, number];
    exporter = new PrometheusExporter({ host: '127.0.0.1', port: metricsPort });
    meterProvider = new MeterProvider({ readers: [exporter] });
    instrumentation.setMeterProvider(meterProvider);
    tmp = mkdtempSync(join(tmpdir(), 'mcp-dashboard-'));
    prometheus = await startPrometheus({ dir: tmp, port: prometheusPort, job: JOB, targets: [`127.0.0.1:${metricsPort}`] });

    // Warm-up: every series is born with 1.
    await session([['fast', {}], ['flaky', { fail: false }], ['flaky', { fail: true }], ['slow', {}]]);
    await waitFor('sum(mcp_server_operation_duration_count{mcp_method_name="tools/call"})', 4);
    await waitFor('sum(mcp_client_session_duration_count)', 1);
    await waitFor('sum(mcp_server_session_duration_count)', 1);
    await sleep(10_000);

    // The counted part.
    const calls: Array<[string, Record<string, unknown>]> = [];
    for (let i = 0; i < 6; i++) calls.push(['fast', {}]);
    for (let i = 0; i < 2; i++) calls.push(['flaky', { fail: false }]);
    for (let i = 0; i < 3; i++) calls.push(['flaky', { fail: true }]);
    for (let i = 0; i < 2; i++) calls.push(['slow', {}]);
    sessionSeconds = await session(calls);
    await waitFor('sum(mcp_server_operation_duration_count{mcp_method_name="tools/call"})', 17);
    await waitFor('sum(mcp_client_operation_duration_count{mcp_method_name="tools/call"})', 17);
    await waitFor('sum(mcp_server_session_duration_count)', 2);
    await waitFor('sum(mcp_client_session_duration_count)', 2);
    // Evaluated at the last scrape, which holds all of it: nothing extrapolated past it.
    at = Number((await query(`max(timestamp(up{job="${JOB}"}))`))[0]!.value[1]);

    for (const panel of dashboard.panels.filter((p: Any) => p.type !== 'row')) {
      const byRef = new Map<string, Sample[]>();
      for (const target of panel.targets) byRef.set(target.refId, await query(substitute(target.expr), at));
      results.set(panel.title, byRef);
    }
  });

  after(async () => {
    await prometheus?.stop();
    await meterProvider?.shutdown();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  test('imports anywhere: the data source is an input, every panel and variable uses it', () => {
    assert.deepEqual(dashboard.__inputs.map((i: Any) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
    const sources = [
      ...dashboard.templating.list.map((v: Any) => v.datasource),
      ...dashboard.panels.filter((p: Any) => p.type !== 'row').flatMap((p: Any) => [p.datasource, ...p.targets.map((t: Any) => t.datasource)]),
    ];
    for (const source of sources) assert.deepEqual(source, { type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    assert.deepEqual(dashboard.templating.list.map((v: Any) => v.name), ['service', 'tool']);
    assert.equal(results.size, 10, 'ten panels, each queried');
  });

  test('the template variables list the service and the tools', async () => {
    const values = async (definition: string): Promise<string[]> => {
      const m = /^label_values\((.*), (\w+)\)$/.exec(substitute(definition));
      assert.ok(m !== null, definition);
      const url = `http://127.0.0.1:${prometheusPort}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(m[1]!)}`;
      return ((await (await fetch(url)).json()) as { data: string[] }).data;
    };
    const [service, tool] = dashboard.templating.list;
    assert.deepEqual(await values(service.definition), [JOB]);
    assert.deepEqual(await values(tool.definition), ['fast', 'flaky', 'slow']);
  });

  for (const side of ['server', 'client'] as const) {
    test(`${side} side: calls per tool by outcome, over the range and per interval`, () => {
      const expected = { 'fast -': 6, 'flaky -': 2, 'flaky tool_error': 3, 'slow -': 2 };
      for (const title of [`Calls per tool by outcome (${side}), over the time range`, `Calls per tool by outcome (${side}), per interval`]) {
        const samples = results.get(title)!.get('A')!;
        assert.deepEqual(rounded(byLabels(samples, ['gen_ai_tool_name', 'error_type'])), expected, title);
      }
    });

    test(`${side} side: error ratio per tool`, () => {
      const ratio = byLabels(results.get(`Error ratio per tool (${side})`)!.get('A')!, ['gen_ai_tool_name']);
      assert.deepEqual(Object.keys(ratio).sort(), ['fast', 'flaky', 'slow']);
      assert.equal(ratio.fast, 0);
      assert.equal(ratio.slow, 0);
      assert.ok(Math.abs(ratio.flaky! - 3 / 5) < 0.05, `flaky: ${ratio.flaky} vs 0.6`);
    });

    test(`${side} side: latency p50, p95, p99 inside the bucket of the calls`, () => {
      const panel = results.get(`Latency per tool (${side}): p50, p95, p99`)!;
      // fast and flaky answer at once (first bucket, up to 10 ms); slow waits 300 ms (0.2 to 0.5 s).
      const within: Record<string, [number, number]> = { fast: [0, 0.01], flaky: [0, 0.01], slow: [0.2, 0.5] };
      for (const ref of ['A', 'B', 'C']) {
        const q = byLabels(panel.get(ref)!, ['gen_ai_tool_name']);
        assert.deepEqual(Object.keys(q).sort(), ['fast', 'flaky', 'slow'], `quantile ${ref}`);
        for (const [tool, [low, high]] of Object.entries(within)) {
          assert.ok(q[tool]! >= low && q[tool]! <= high, `${side} ${tool} quantile ${ref}: ${q[tool]} in [${low}, ${high}]`);
        }
      }
    });

    test(`${side} side: session durations and sessions ended`, () => {
      const panel = results.get(`Session durations (${side}): p50, p95, and sessions ended`)!;
      // The bucket of the counted session, give or take the 50 ms around its measured wall time.
      const low = bucketOf(Math.max(0, sessionSeconds - 0.05))[0];
      const high = bucketOf(sessionSeconds + 0.05)[1];
      for (const ref of ['A', 'B']) {
        const samples = panel.get(ref)!;
        assert.equal(samples.length, 1);
        const value = Number(samples[0]!.value[1]);
        assert.ok(value >= low && value <= high, `${side} session quantile ${ref}: ${value} in [${low}, ${high}] (session ${sessionSeconds} s)`);
      }
      assert.deepEqual(rounded(byLabels(panel.get('C')!, ['error_type'])), { '-': 1 });
    });
  }
});
