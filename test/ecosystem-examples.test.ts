/*
 * Runs each example under examples/ the way its README says, exporting OTLP/HTTP JSON to a loopback
 * receiver this test runs, and checks what arrives:
 * - nodesdk-otlp: NodeSDK set up in code (OTLP exporters, McpInstrumentation), a stdio server driven by
 *   the SDK client instrumented here;
 * - zero-code-stdio: a stdio server under the preload, started by an uninstrumented host script;
 * - http-tool-api: a Streamable HTTP server whose tool calls an HTTP API (instrumentation-http);
 * - two-processes: a client and a server, both under the preload, forming one trace.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SpanKind, trace } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { setupOtel, type FinishedSpan } from './helpers/otel';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetricPoint, type ReceivedSpan } from './helpers/otlp-receiver';
import { REPO_ROOT, sdk } from './helpers/sdk';
import { finishWithin, killChildren, otlpChildEnv, startNode, type Finished, type NodeChild } from './helpers/process';
import { v1Only } from './helpers/mcp';

/** On MCP_SDK_MAJOR=2 this file skips: the examples under examples/ are written against @modelcontextprotocol/sdk 1.x. */
const V1_ONLY = v1Only('the examples under examples/ are written against @modelcontextprotocol/sdk 1.x');

const otel = setupOtel();
new McpInstrumentation();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const { Client } = sdk('client/index.js');
const { StdioClientTransport } = sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = sdk('client/streamableHttp.js');

const MCP_SCOPE = 'opentelemetry-instrumentation-mcp';
const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const EXAMPLES = join(REPO_ROOT, 'examples');
const WAIT_MS = 20_000;

after(killChildren);

interface Started {
  child: NodeChild;
  /** The exit and all output; rejects (the child killed) after `WAIT_MS`. */
  finished: Promise<Finished>;
}

function startExample(args: string[], env: NodeJS.ProcessEnv): Started {
  const child = startNode(args, env, 'ignore');
  return { child, finished: finishWithin(child, WAIT_MS, args.join(' ')) };
}

async function inRootSpan<T>(name: string, work: () => Promise<T>): Promise<{ traceId: string; value: T }> {
  return trace.getTracer('ecosystem-examples-test').startActiveSpan(name, async (root) => {
    try {
      return { traceId: root.spanContext().traceId, value: await work() };
    } finally {
      root.end();
    }
  });
}

/** This process's CLIENT span of request `id` of `method` in trace `traceId`. */
function clientSpan(traceId: string, method: string, id: unknown): FinishedSpan {
  const found = otel
    .spans()
    .filter(
      (s) =>
        s.spanContext().traceId === traceId &&
        s.kind === SpanKind.CLIENT &&
        s.attributes['mcp.method.name'] === method &&
        s.attributes['jsonrpc.request.id'] === String(id),
    );
  assert.equal(found.length, 1, `one CLIENT span of ${method} #${String(id)}`);
  return found[0]!;
}

/** Count of `metric` per `tool|error.type` for tools/call, in its last export (cumulative totals). */
function toolCounts(receiver: OtlpReceiver, metric = 'mcp.server.operation.duration'): Record<string, number> {
  const points = receiver.metricPoints(metric);
  if (points.length === 0) return {};
  const last = Math.max(...points.map((p) => p.exportIndex));
  const counts: Record<string, number> = {};
  for (const p of points.filter((q: ReceivedMetricPoint) => q.exportIndex === last && q.attributes['mcp.method.name'] === 'tools/call')) {
    const key = `${String(p.attributes['gen_ai.tool.name'])}|${String(p.attributes['error.type'] ?? '')}`;
    counts[key] = (counts[key] ?? 0) + p.count!;
  }
  return counts;
}

function mcpServerSpans(receiver: OtlpReceiver): ReceivedSpan[] {
  return receiver.spans().filter((s) => s.scope === MCP_SCOPE && s.kind === 'SERVER');
}

function names(spans: ReceivedSpan[]): string[] {
  return spans.map((s) => s.name).sort();
}

describe('examples', { concurrency: true, skip: V1_ONLY }, () => {
  test('nodesdk-otlp: NodeSDK in code with OTLP exporters; SERVER spans continue this client’s trace; per-tool metrics', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: ['--require', './examples/nodesdk-otlp/tracing.cjs', 'examples/nodesdk-otlp/server.cjs'],
        cwd: REPO_ROOT,
        env: otlpChildEnv(receiver.endpoint),
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const sent: Any[] = [];
      const send = transport.send.bind(transport);
      transport.send = (message: Any, options?: unknown) => {
        if (message.id !== undefined && message.method !== undefined) sent.push(message);
        return send(message, options);
      };
      const client = new Client({ name: 'inventory-host', version: '1.0.0' });
      const { traceId } = await inRootSpan('inventory session', async () => {
        await client.connect(transport);
        const text = (r: Any): string => r.content[0].text;
        assert.equal(text(await client.callTool({ name: 'check-stock', arguments: { item: 'widget' } })), 'widget: 12 in stock');
        assert.equal((await client.callTool({ name: 'check-stock', arguments: { item: 'sprocket' } })).isError, true);
        assert.equal(text(await client.callTool({ name: 'reserve', arguments: { item: 'widget', quantity: 5 } })), 'reserved 5 widget(s)');
        assert.equal((await client.callTool({ name: 'reserve', arguments: { item: 'gadget', quantity: 1 } })).isError, true);
        assert.equal(JSON.parse((await client.readResource({ uri: 'inventory://catalog' })).contents[0].text).widget, 7);
      });
      await client.close(); // the server's stdin ends; tracing.cjs flushes before it exits
      await receiver.waitFor(() => mcpServerSpans(receiver).length === sent.length + 1, WAIT_MS, `the server spans; stderr:\n${stderr}`);
      await receiver.waitFor(() => Object.keys(toolCounts(receiver)).length === 4, WAIT_MS, 'the tool metrics');

      const spans = mcpServerSpans(receiver);
      assert.deepEqual(names(spans), [
        'initialize',
        'notifications/initialized',
        'resources/read',
        'tools/call check-stock',
        'tools/call check-stock',
        'tools/call reserve',
        'tools/call reserve',
      ]);
      for (const message of sent) {
        const server = spans.find((s) => s.attributes['jsonrpc.request.id'] === String(message.id))!;
        const client = clientSpan(traceId, message.method, message.id);
        assert.equal(server.name, client.name);
        assert.equal(server.traceId, traceId, `${server.name}: in this process's trace`);
        assert.equal(server.parentSpanId, client.spanContext().spanId, `${server.name}: child of this process's CLIENT span`);
        assert.equal(server.resource['service.name'], 'inventory-server');
        assert.equal(server.attributes['network.transport'], 'pipe');
        assert.equal(server.attributes['mcp.client.name'], 'inventory-host');
      }
      const failed = spans.filter((s) => s.attributes['error.type'] !== undefined).map((s) => `${s.name} ${String(s.attributes['error.type'])} ${s.statusCode}`);
      assert.deepEqual(failed.sort(), ['tools/call check-stock tool_error 2', 'tools/call reserve tool_error 2']);
      assert.deepEqual(toolCounts(receiver), { 'check-stock|': 1, 'check-stock|tool_error': 1, 'reserve|': 1, 'reserve|tool_error': 1 });
      assert.equal(receiver.spans().length, spans.length, 'only the MCP spans: the host is another process');
    } finally {
      await receiver.close();
    }
  });

  test('zero-code-stdio: an uninstrumented host starts the server under the preload; its requests arrive as root SERVER spans', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const run = startExample(['examples/zero-code-stdio/client.mjs'], otlpChildEnv(receiver.endpoint));
      const result = await run.finished;
      assert.equal(
        result.stdout,
        [
          'tools: add-note, search-notes',
          'saved "otel" (2 notes)',
          'otel',
          'no note mentions "kangaroo"',
          'notes://all: 5 lines',
          'prompt: Summarize my 2 notes, briefly.',
          '',
        ].join('\n'),
        `stderr:\n${result.stderr}`,
      );
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null });
      // The server exited when the host closed its stdin, flushing on the way out.
      await receiver.waitFor(() => mcpServerSpans(receiver).length === 8, WAIT_MS, `the server spans; stderr:\n${result.stderr}`);
      await receiver.waitFor(() => Object.keys(toolCounts(receiver)).length === 3, WAIT_MS, 'the tool metrics');
      const spans = mcpServerSpans(receiver);
      assert.equal(receiver.spans().length, spans.length, 'only SERVER spans: the host is not instrumented, sends nothing');
      assert.deepEqual(names(spans), [
        'initialize',
        'notifications/initialized',
        'prompts/get summarize-notes',
        'resources/read',
        'tools/call add-note',
        'tools/call search-notes',
        'tools/call search-notes',
        'tools/list',
      ]);
      for (const span of spans) {
        assert.equal(span.parentSpanId, undefined, `${span.name}: a root (the host is not instrumented)`);
        assert.equal(span.resource['service.name'], 'notes-server');
        assert.equal(span.attributes['network.transport'], 'pipe');
        assert.equal(span.attributes['mcp.method.name'], span.name.split(' ')[0]);
        assert.equal(span.attributes['mcp.client.name'], 'notes-host');
      }
      assert.deepEqual(
        spans.filter((s) => s.attributes['error.type'] !== undefined).map((s) => `${s.name} ${String(s.attributes['error.type'])}`),
        ['tools/call search-notes tool_error'],
      );
      assert.equal(spans.find((s) => s.name === 'resources/read')!.attributes['mcp.resource.uri'], 'notes://all');
      assert.deepEqual(toolCounts(receiver), { 'add-note|': 1, 'search-notes|': 1, 'search-notes|tool_error': 1 });
      // The server's JSON-line log went to its stderr (the host passes it through): one line per operation.
      const logged = result.stderr
        .split('\n')
        .filter((line) => line.startsWith('{"ts":'))
        .map((line) => JSON.parse(line) as { side: string; method: string });
      assert.equal(logged.filter((l) => l.side === 'server').length, 8);
    } finally {
      await receiver.close();
    }
  });

  test('http-tool-api: the tool’s HTTP call is a child span of tools/call, and the API receives its trace context', async () => {
    const receiver = await startOtlpReceiver();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startWeatherApi } = require(join(EXAMPLES, 'http-tool-api', 'api.cjs')) as {
      startWeatherApi(): Promise<{ url: string; requests: Array<{ path: string; city: string; traceparent?: string }>; close(): Promise<void> }>;
    };
    const api = await startWeatherApi();
    let server: Started | undefined;
    try {
      server = startExample(
        ['--require', './examples/http-tool-api/tracing.cjs', 'examples/http-tool-api/server.cjs'],
        otlpChildEnv(receiver.endpoint, { MCP_PORT: '0', WEATHER_API_URL: api.url }),
      );
      await receiver.waitFor(() => /MCP endpoint http:\/\/127\.0\.0\.1:\d+\/mcp/.test(server!.child.stderr()), WAIT_MS, 'the server to listen');
      const endpoint = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(server.child.stderr())![1]!;

      const transport = new StreamableHTTPClientTransport(new URL(endpoint));
      const client = new Client({ name: 'weather-client', version: '1.0.0' });
      const { traceId } = await inRootSpan('weather session', async () => {
        await client.connect(transport);
        const paris = await client.callTool({ name: 'forecast', arguments: { city: 'Paris' } });
        assert.equal(paris.content[0].text, 'Paris: sunny, 21°C');
        const atlantis = await client.callTool({ name: 'forecast', arguments: { city: 'Atlantis' } });
        assert.equal(atlantis.isError, true);
      });
      await transport.terminateSession();
      await client.close();
      await receiver.waitFor(
        () => receiver.spans().filter((s) => s.scope === HTTP_SCOPE && s.kind === 'CLIENT').length === 2 && mcpServerSpans(receiver).length === 4,
        WAIT_MS,
        'the spans of both calls',
      );
      server.child.proc.kill('SIGTERM');
      const exit = await server.finished;
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, "tracing.cjs flushes and exits 0 on SIGTERM");

      const spans = receiver.spans();
      const calls = mcpServerSpans(receiver).filter((s) => s.name === 'tools/call forecast');
      assert.equal(calls.length, 2);
      assert.equal(api.requests.length, 2, 'the API was called once per tool call');
      const httpIds = new Set(spans.filter((s) => s.scope === HTTP_SCOPE && s.kind === 'SERVER').map((s) => s.spanId));
      for (const [i, city] of ['Paris', 'Atlantis'].entries()) {
        const call = calls.find((s) => {
          const http = spans.find((h) => h.scope === HTTP_SCOPE && h.kind === 'CLIENT' && h.parentSpanId === s.spanId);
          return http !== undefined && api.requests[i]!.traceparent === `00-${http.traceId}-${http.spanId}-01`;
        });
        assert.ok(call !== undefined, `${city}: the API got the traceparent of an HTTP CLIENT span whose parent is a tools/call span`);
        assert.equal(api.requests[i]!.city, city);
        assert.equal(call.traceId, traceId, `${city}: one trace from this client through the server to the API`);
        const clientCall = otel
          .spans()
          .find((s) => s.spanContext().spanId === call.parentSpanId && s.kind === SpanKind.CLIENT && s.name === 'tools/call forecast');
        assert.ok(clientCall !== undefined, `${city}: the tools/call SERVER span is the child of this process's CLIENT span`);
        assert.equal(call.links.length, 1);
        assert.ok(httpIds.has(call.links[0]!.spanId), `${city}: linked to the HTTP server span of its POST`);
        assert.equal(call.attributes['network.transport'], 'tcp');
        assert.equal(call.attributes['gen_ai.tool.name'], 'forecast');
        assert.equal(call.attributes['error.type'], city === 'Atlantis' ? 'tool_error' : undefined);
        const http = spans.find((h) => h.scope === HTTP_SCOPE && h.kind === 'CLIENT' && h.parentSpanId === call.spanId)!;
        assert.equal(http.attributes['http.response.status_code'] ?? http.attributes['http.status_code'], city === 'Atlantis' ? 404 : 200);
      }
      assert.deepEqual(toolCounts(receiver), { 'forecast|': 1, 'forecast|tool_error': 1 });
    } finally {
      server?.child.proc.kill('SIGKILL');
      await api.close();
      await receiver.close();
    }
  });

  test('two-processes: client and server both under the preload, one trace from plan-trip into the server process', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const run = startExample(
        ['--require', 'opentelemetry-instrumentation-mcp/register', 'examples/two-processes/client.cjs'],
        otlpChildEnv(receiver.endpoint, { OTEL_SERVICE_NAME: 'trip-planner', OTEL_INSTRUMENTATION_MCP_LOG: 'off' }),
      );
      const result = await run.finished;
      const lines = result.stdout.split('\n');
      assert.deepEqual(lines.slice(0, 3), ['Paris: sunny, 21°C', 'Oslo: snow, -3°C', 'booked 2 night(s) in Oslo'], `stderr:\n${result.stderr}`);
      const traceId = /^trace ([0-9a-f]{32})$/.exec(lines[3]!)?.[1];
      assert.ok(traceId !== undefined, `the trace id line: ${lines[3]}`);
      assert.equal(lines.length, 5);
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null });
      await receiver.waitFor(() => receiver.spans().filter((s) => s.traceId === traceId).length === 7, WAIT_MS, 'the trace from both processes');

      const inTrace = receiver.spans().filter((s) => s.traceId === traceId);
      const root = inTrace.find((s) => s.name === 'plan-trip')!;
      assert.equal(root.kind, 'INTERNAL');
      assert.equal(root.parentSpanId, undefined);
      assert.equal(root.resource['service.name'], 'trip-planner');
      const clients = inTrace.filter((s) => s.kind === 'CLIENT');
      const servers = inTrace.filter((s) => s.kind === 'SERVER');
      assert.deepEqual(names(clients), ['tools/call book-hotel', 'tools/call forecast', 'tools/call forecast']);
      assert.deepEqual(names(servers), names(clients));
      for (const c of clients) {
        assert.equal(c.parentSpanId, root.spanId, `${c.name}: child of plan-trip`);
        assert.equal(c.resource['service.name'], 'trip-planner');
        const s = servers.filter((x) => x.parentSpanId === c.spanId);
        assert.equal(s.length, 1, `${c.name}: one SERVER span in the other process is its child`);
        assert.equal(s[0]!.resource['service.name'], 'trip-server');
        assert.equal(s[0]!.attributes['jsonrpc.request.id'], c.attributes['jsonrpc.request.id']);
        assert.equal(s[0]!.resource['process.pid'] === c.resource['process.pid'], false, 'two processes');
      }
      // initialize and notifications/initialized happen before plan-trip: traces of their own, across both processes.
      for (const name of ['initialize', 'notifications/initialized']) {
        const c = receiver.spans().filter((s) => s.name === name && s.kind === 'CLIENT');
        const s = receiver.spans().filter((x) => x.name === name && x.kind === 'SERVER');
        assert.equal(c.length, 1);
        assert.equal(s.length, 1);
        assert.equal(s[0]!.parentSpanId, c[0]!.spanId, `${name}: across the processes too`);
      }
    } finally {
      await receiver.close();
    }
  });
});
