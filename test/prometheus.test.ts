/*
 * The metrics, proven in a real Prometheus: examples/prometheus/server.cjs (an MCP server over
 * Streamable HTTP with a PrometheusExporter) runs as a child process, a real Prometheus server scrapes
 * it every second, this process's MCP client makes a known mix of calls, and Prometheus's HTTP API
 * must then answer the README's queries with exactly those counts.
 *
 * Needs the `prometheus` binary (Debian package `prometheus`; CI installs it). Without it the suite
 * is skipped, and only then.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, REPO_ROOT, sdk } from './helpers/sdk';
import { v1Only } from './helpers/mcp';
import { Child, freePorts, instantQuery, POLL_MS, PROMETHEUS_SKIP as SKIP, sleep, startPrometheus, WAIT_MS, type Sample } from './helpers/prometheus';

const EXAMPLE = join(REPO_ROOT, 'examples', 'prometheus', 'server.cjs');
/** On MCP_SDK_MAJOR=2 this file skips: examples/prometheus is written against @modelcontextprotocol/sdk 1.x. */
const V1_ONLY = v1Only('examples/prometheus is written against @modelcontextprotocol/sdk 1.x');

/** TCP sockets `pid` listens on, as `address:port` (Linux: /proc/<pid>/fd and /proc/net/tcp{,6}). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue; // 0A: LISTEN
      const [hexAddress, hexPort] = cols[1]!.split(':') as [string, string];
      // Each 32-bit word of the address is in host (little-endian) byte order.
      const bytes: number[] = [];
      for (let i = 0; i < hexAddress.length; i += 8) {
        const word = hexAddress.slice(i, i + 8);
        for (let j = 6; j >= 0; j -= 2) bytes.push(parseInt(word.slice(j, j + 2), 16));
      }
      const address =
        bytes.length === 4
          ? bytes.join('.')
          : `[${Array.from({ length: 8 }, (_, k) => ((bytes[2 * k]! << 8) | bytes[2 * k + 1]!).toString(16)).join(':')}]`;
      out.push(`${address}:${parseInt(hexPort, 16)}`);
    }
  }
  return out.sort();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe('metrics in a real Prometheus (examples/prometheus)', { skip: V1_ONLY || SKIP }, () => {
  let tmp: string;
  let example: Child;
  let prometheus: Child;
  let mcpPort: number;
  let metricsPort: number;
  let prometheusPort: number;
  let Client: Any;
  let StreamableHTTPClientTransport: Any;

  /** Runs an instant query; the result vector, or undefined when Prometheus did not answer. */
  function query(promql: string): Promise<Sample[] | undefined> {
    return instantQuery(prometheusPort, promql);
  }

  /** The result as `{ "label1 label2": value }`; a label the series does not have is `-`. */
  function byLabels(samples: Sample[], labels: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of samples) out[labels.map((l) => s.metric[l] ?? '-').join(' ')] = Number(s.value[1]);
    return out;
  }

  /**
   * Polls `promql` until its result, keyed by `labels` (values mapped by `map`), equals `expected`;
   * fails after WAIT_MS with the last result.
   */
  async function eventually(
    promql: string,
    labels: string[],
    expected: Record<string, number>,
    map: (value: number) => number = (value) => value,
  ): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    let last: Record<string, number> | undefined;
    for (;;) {
      const samples = await query(promql);
      if (samples !== undefined) {
        last = Object.fromEntries(Object.entries(byLabels(samples, labels)).map(([k, v]) => [k, map(v)]));
        if (JSON.stringify(sortKeys(last)) === JSON.stringify(sortKeys(expected))) return;
      }
      if (Date.now() > deadline) {
        assert.deepEqual(last, expected, `Prometheus did not reach the expected result within ${WAIT_MS} ms for\n  ${promql}\n${example.describe()}`);
        return;
      }
      await sleep(POLL_MS);
    }
  }

  function sortKeys(o: Record<string, number>): Array<[string, number]> {
    return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  before(async () => {
    ({ Client } = sdk('client/index.js'));
    ({ StreamableHTTPClientTransport } = sdk('client/streamableHttp.js'));
    [mcpPort, metricsPort, prometheusPort] = (await freePorts(3)) as [number, number, number];
    tmp = mkdtempSync(join(tmpdir(), 'mcp-prometheus-'));

    example = new Child('examples/prometheus/server.cjs', process.execPath, [EXAMPLE], childEnv({ MCP_PORT: String(mcpPort), METRICS_PORT: String(metricsPort) }));
    await example.waitUntil('the example to listen', () => example.stdout.includes('\n'));

    prometheus = await startPrometheus({ dir: tmp, port: prometheusPort, job: 'mcp-example', targets: [`127.0.0.1:${metricsPort}`] });
  });

  after(async () => {
    await Promise.all([example?.stop(), prometheus?.stop()]);
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  test('the example prints one line on stdout: where it listens', () => {
    assert.equal(
      example.stdout,
      `MCP endpoint http://127.0.0.1:${mcpPort}/mcp, Prometheus metrics http://127.0.0.1:${metricsPort}/metrics\n`,
    );
  });

  test('nothing listens on a non-loopback address', { skip: process.platform !== 'linux' ? 'reads /proc (Linux only)' : false }, () => {
    assert.deepEqual(listeningAddresses(example.proc.pid!), [`127.0.0.1:${mcpPort}`, `127.0.0.1:${metricsPort}`].sort());
    assert.deepEqual(listeningAddresses(prometheus.proc.pid!), [`127.0.0.1:${prometheusPort}`]);
  });

  test('Prometheus scrapes the example', async () => {
    await eventually('up{job="mcp-example"}', ['instance'], { [`127.0.0.1:${metricsPort}`]: 1 });
  });

  test('calls per tool and outcome, per method, errors, and the session, exactly as the client made them', async () => {
    const client = new Client({ name: 'prometheus-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${mcpPort}/mcp`));
    await client.connect(transport);

    // First, so that its cancellation has long arrived when the session ends.
    await assert.rejects(client.callTool({ name: 'wait', arguments: { seconds: 600 } }, undefined, { timeout: 200 }), /timed out/i);
    for (let i = 0; i < 5; i++) {
      const result = await client.callTool({ name: 'add', arguments: { a: i, b: 1 } });
      assert.equal(result.isError, undefined);
    }
    for (let i = 0; i < 3; i++) {
      const result = await client.callTool({ name: 'divide', arguments: { a: i, b: 0 } });
      assert.equal(result.isError, true);
    }
    assert.equal((await client.callTool({ name: 'divide', arguments: { a: 1, b: 4 } })).content[0].text, '0.25');
    for (let i = 0; i < 2; i++) {
      const result = await client.callTool({ name: 'exchange-rate', arguments: {} });
      assert.equal(result.isError, true);
      assert.match(result.content[0].text, /upstream rate service unavailable/);
    }
    for (let i = 0; i < 2; i++) {
      await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }), (error: Any) => error.code === -32602);
    }
    await client.getPrompt({ name: 'explain', arguments: { expression: '6 * 7' } });

    // The README's chart: calls per tool and outcome (an ok call has no error_type label).
    await eventually(
      'sum by (gen_ai_tool_name, error_type) (mcp_server_operation_duration_count{mcp_method_name="tools/call"})',
      ['gen_ai_tool_name', 'error_type'],
      {
        'add -': 5,
        'divide -': 1,
        'divide tool_error': 3,
        'exchange-rate tool_error': 2,
        'wait cancelled': 1,
      },
    );
    // Ok calls only: `error_type=""` matches the series without the label.
    await eventually(
      'sum by (gen_ai_tool_name) (mcp_server_operation_duration_count{mcp_method_name="tools/call", error_type=""})',
      ['gen_ai_tool_name'],
      { add: 5, divide: 1 },
    );
    await eventually('sum by (mcp_method_name) (mcp_server_operation_duration_count)', ['mcp_method_name'], {
      initialize: 1,
      'notifications/initialized': 1,
      'notifications/cancelled': 1,
      'tools/call': 12,
      'prompts/get': 3,
    });
    await eventually(
      'sum by (mcp_method_name, error_type, rpc_response_status_code) (mcp_server_operation_duration_count{error_type!=""})',
      ['mcp_method_name', 'error_type', 'rpc_response_status_code'],
      {
        'tools/call tool_error -': 5,
        'tools/call cancelled -': 1,
        'prompts/get -32602 -32602': 2,
      },
    );
    // Every measurement falls in the +Inf bucket: the histogram arrives whole.
    await eventually(
      'sum by (gen_ai_tool_name) (mcp_server_operation_duration_bucket{mcp_method_name="tools/call", le="+Inf"})',
      ['gen_ai_tool_name'],
      { add: 5, divide: 4, 'exchange-rate': 2, wait: 1 },
    );
    // The README's windowed form, verbatim: increase() extrapolates, so no exact values, but every series.
    await eventually(
      'sum by (gen_ai_tool_name, error_type) (increase(mcp_server_operation_duration_count{mcp_method_name="tools/call"}[5m]))',
      ['gen_ai_tool_name', 'error_type'],
      { 'add -': 1, 'divide -': 1, 'divide tool_error': 1, 'exchange-rate tool_error': 1, 'wait cancelled': 1 },
      (value) => (Number.isFinite(value) && value >= 0 ? 1 : value),
    );
    // The session is still open: no session duration yet.
    assert.deepEqual(await query('mcp_server_session_duration_count'), []);

    // Ending the session (DELETE) closes the server side: one session measured, ended without error.
    await transport.terminateSession();
    await client.close();
    await eventually('sum by (error_type) (mcp_server_session_duration_count)', ['error_type'], { '-': 1 });
  });

  test('the histogram and its labels, as Prometheus names them', async () => {
    const bound = (le: string): number => (le === '+Inf' ? Infinity : Number(le));
    const samples = await query('mcp_server_operation_duration_count{gen_ai_tool_name="add"}');
    assert.equal(samples?.length, 1);
    const labels = samples![0]!.metric;
    assert.deepEqual(Object.keys(labels).sort(), [
      '__name__',
      'gen_ai_operation_name',
      'gen_ai_tool_name',
      'instance',
      'job',
      'mcp_method_name',
      'mcp_protocol_version',
      'network_protocol_name',
      'network_protocol_version',
      'network_transport',
      'otel_scope_name',
      'otel_scope_version',
    ]);
    assert.equal(labels.__name__, 'mcp_server_operation_duration_count');
    assert.equal(labels.network_protocol_version, '1.1');
    assert.equal(labels.gen_ai_operation_name, 'execute_tool');
    assert.equal(labels.network_transport, 'tcp');
    assert.equal(labels.otel_scope_name, 'opentelemetry-instrumentation-mcp');
    // No unit suffix: this exporter keeps the OpenTelemetry name (the unit is only in `# UNIT`).
    assert.deepEqual(await query('{__name__=~"mcp_.*_seconds.*"}'), []);
    const buckets = await query('mcp_server_operation_duration_bucket{gen_ai_tool_name="add"}');
    assert.deepEqual(
      buckets!.map((s) => s.metric.le!).sort((a, b) => bound(a) - bound(b)),
      ['0.01', '0.02', '0.05', '0.1', '0.2', '0.5', '1', '2', '5', '10', '30', '60', '120', '300', '+Inf'],
    );
  });
});
