'use strict';
/*
 * `npm run demo`: an MCP client (this process, instrumented through NodeSDK) talks to an MCP server
 * (a child process over stdio, instrumented with no code change: `--import …/register`). Both export
 * OTLP to a loopback receiver; the demo then prints the traces as trees, and the per-tool call count
 * by outcome from the `mcp.server.operation.duration` histogram.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startCollector } = require('./collector.cjs');

const TRACE_KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

async function main() {
  const collector = await startCollector();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-demo-'));
  const serverLog = path.join(logDir, 'server.log');
  const otlpEnv = {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_LOGS_EXPORTER: 'none',
  };
  Object.assign(process.env, otlpEnv, { OTEL_SERVICE_NAME: 'weather-client' });

  // The client side: OpenTelemetry's NodeSDK with McpInstrumentation, set up before the SDK loads.
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { McpInstrumentation } = require('opentelemetry-instrumentation-mcp');
  const sdk = new NodeSDK({ instrumentations: [new McpInstrumentation()] });
  sdk.start();

  const { trace } = require('@opentelemetry/api');
  const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

  const client = new Client({ name: 'weather-client', version: '2.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'opentelemetry-instrumentation-mcp/register', path.join(__dirname, 'server.mjs')],
      cwd: path.join(__dirname, '..', '..'),
      // The server's JSON-line log of MCP operations goes to a file (stderr by default).
      env: { ...process.env, ...otlpEnv, OTEL_SERVICE_NAME: 'weather-server', OTEL_INSTRUMENTATION_MCP_LOG: serverLog },
      stderr: 'inherit',
    }),
  );

  const tracer = trace.getTracer('demo');
  await tracer.startActiveSpan('plan-trip', async (span) => {
    await client.listTools();
    for (const city of ['Paris', 'Oslo', 'Atlantis']) {
      await client.callTool({ name: 'forecast', arguments: { city } });
    }
    await client.callTool({ name: 'alerts', arguments: {} });
    await client.getPrompt({ name: 'packing-list', arguments: { city: 'Oslo' } });
    await client.readResource({ uri: 'weather://stations' });
    span.end();
  });

  await client.close(); // the server process ends; its preload flushes on the way out
  await sdk.shutdown();
  await waitFor(() => collector.spans.some((s) => s.service === 'weather-server' && s.name === 'tools/call alerts'), 10_000);
  await waitFor(() => collector.metrics.some((m) => m.service === 'weather-server' && m.name === 'mcp.server.operation.duration'), 10_000);
  await collector.close();

  printTraces(collector.spans);
  printToolChart(collector.metrics);
  printLog(serverLog);
  fs.rmSync(logDir, { recursive: true, force: true });
}

function printLog(file) {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  process.stdout.write(`\nthe server's JSON-line log (OTEL_INSTRUMENTATION_MCP_LOG), ${lines.length} lines, tools/call only:\n`);
  for (const line of lines) {
    if (JSON.parse(line).method === 'tools/call') process.stdout.write(`  ${line}\n`);
  }
}

function waitFor(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const tick = () => (predicate() || Date.now() > deadline ? resolve() : setTimeout(tick, 50));
    tick();
  });
}

function describeSpan(s) {
  const a = s.attributes;
  const ms = (s.end - s.start).toFixed(1).padStart(6);
  const outcome = a['error.type'] !== undefined ? `error.type=${a['error.type']}` : 'ok';
  const extras = ['jsonrpc.request.id', 'mcp.protocol.version', 'network.transport']
    .filter((k) => a[k] !== undefined)
    .map((k) => `${k}=${a[k]}`)
    .join(' ');
  return `${s.name}  [${s.service} ${TRACE_KINDS[s.kind - 1] ?? s.kind}] ${ms} ms  ${outcome}  ${extras}`;
}

function printTraces(spans) {
  const byTrace = new Map();
  for (const s of spans) (byTrace.get(s.traceId) ?? byTrace.set(s.traceId, []).get(s.traceId)).push(s);
  const traces = [...byTrace.values()].sort((a, b) => Math.min(...a.map((s) => s.start)) - Math.min(...b.map((s) => s.start)));
  process.stdout.write(`\n${spans.length} spans in ${traces.length} traces, from two processes:\n`);
  for (const group of traces) {
    const ids = new Set(group.map((s) => s.spanId));
    const roots = group.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)).sort((a, b) => a.start - b.start);
    process.stdout.write(`\ntrace ${group[0].traceId}\n`);
    const walk = (span, prefix, last, depth) => {
      process.stdout.write(`${depth === 0 ? '' : prefix + (last ? '└─ ' : '├─ ')}${describeSpan(span)}\n`);
      const children = group.filter((c) => c.parentSpanId === span.spanId).sort((a, b) => a.start - b.start);
      children.forEach((c, i) => walk(c, depth === 0 ? '' : prefix + (last ? '   ' : '│  '), i === children.length - 1, depth + 1));
    };
    for (const root of roots) walk(root, '', true, 0);
  }
}

function printToolChart(metrics) {
  // The cumulative histogram's last export holds the totals: count by tool and outcome.
  const latest = metrics.filter((m) => m.service === 'weather-server' && m.name === 'mcp.server.operation.duration').pop();
  const rows = [];
  for (const point of latest?.histogram?.dataPoints ?? []) {
    const attrs = Object.fromEntries((point.attributes ?? []).map(({ key, value }) => [key, value.stringValue]));
    if (attrs['mcp.method.name'] !== 'tools/call') continue;
    const sum = point.sum ?? 0;
    rows.push([attrs['gen_ai.tool.name'], attrs['error.type'] ?? 'ok', Number(point.count), ((sum / Number(point.count)) * 1000).toFixed(1)]);
  }
  rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
  process.stdout.write('\ncalls per tool and outcome (count of mcp.server.operation.duration):\n');
  process.stdout.write(`  ${'tool'.padEnd(10)} ${'outcome'.padEnd(12)} ${'calls'.padStart(5)} ${'mean ms'.padStart(8)}\n`);
  for (const [tool, outcome, count, mean] of rows) {
    process.stdout.write(`  ${String(tool).padEnd(10)} ${outcome.padEnd(12)} ${String(count).padStart(5)} ${mean.padStart(8)}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
