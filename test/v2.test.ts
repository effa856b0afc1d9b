/*
 * The split v2 packages (`@modelcontextprotocol/server`, `@modelcontextprotocol/client` 2.x): the same
 * spans as on 1.x, CJS and ESM, and propagation between a v1 client and a v2 server both ways.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { AuditSpanProcessor, JsonLogSpanProcessor, McpInstrumentation, verifyAuditTrail } from '../src';
import { mcpSdk } from './helpers/mcp';
import { only, parentSpanIdOf, setupOtel, type FinishedSpan } from './helpers/otel';
import { fixture, REPO_ROOT } from './helpers/sdk';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
// The v2 packages of the repository, or those installed under MCP_V2_ROOT (another 2.x release).
const V2_ROOT = process.env.MCP_V2_ROOT !== undefined && process.env.MCP_V2_ROOT !== '' ? process.env.MCP_V2_ROOT : REPO_ROOT;
const v2ServerPath = require.resolve('@modelcontextprotocol/server', { paths: [V2_ROOT] });
const v2Server = require(v2ServerPath);
const v2Client = require(require.resolve('@modelcontextprotocol/client', { paths: [V2_ROOT] }));
const z4 = require(require.resolve('zod', { paths: [dirname(v2ServerPath)] }));
const v1 = mcpSdk();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require(fixture('scenario.cjs'));
const { readSpanFile } = require(fixture('otel-child.cjs'));

function makeV2Server(name = 'v2-server'): any {
  const server = new v2Server.McpServer({ name, version: '2.0.0' });
  server.registerTool('echo', { description: 'echo', inputSchema: z4.object({ text: z4.string() }) }, async ({ text }: { text: string }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('soft-fail', { description: 'tool error' }, async () => ({ isError: true, content: [{ type: 'text', text: 'no' }] }));
  server.registerTool('slow', { description: 'waits until cancelled' }, async (ctx: any) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      ctx.mcpReq.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [] };
  });
  server.registerTool('ask-roots', { description: 'server-initiated roots/list' }, async () => {
    const roots = await server.server.listRoots();
    return { content: [{ type: 'text', text: String(roots.roots.length) }] };
  });
  return server;
}

function assertHop(client: FinishedSpan, server: FinishedSpan): void {
  assert.equal(server.spanContext().traceId, client.spanContext().traceId);
  assert.equal(parentSpanIdOf(server), client.spanContext().spanId);
  assert.equal(server.attributes['jsonrpc.request.id'], client.attributes['jsonrpc.request.id']);
}

describe('v2 client and v2 server (CommonJS)', () => {
  let client: any;
  let server: any;
  before(async () => {
    server = makeV2Server();
    client = new v2Client.Client({ name: 'v2-client', version: '2.1.0' }, { capabilities: { roots: {} } });
    client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///w', name: 'w' }] }));
    const [a, b] = v2Server.InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    otel.reset();
  });
  after(async () => {
    await client.close();
  });

  test('tools/call: names, kinds, parents and attributes as on 1.x', async () => {
    await trace.getTracer('test').startActiveSpan('app', async (span: Span) => {
      await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      span.end();
    });
    const spans = otel.spans();
    const app = only(spans, 'app', SpanKind.INTERNAL);
    const c = only(spans, 'tools/call echo', SpanKind.CLIENT);
    const s = only(spans, 'tools/call echo', SpanKind.SERVER);
    assert.equal(parentSpanIdOf(c), app.spanContext().spanId);
    assertHop(c, s);
    const version = c.attributes['mcp.protocol.version'];
    assert.match(String(version), /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(c.attributes, {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': c.attributes['jsonrpc.request.id'],
      'mcp.protocol.version': version,
      'mcp.server.name': 'v2-server',
      'mcp.server.version': '2.0.0',
    });
    assert.deepEqual(s.attributes, {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': c.attributes['jsonrpc.request.id'],
      'mcp.protocol.version': version,
      'mcp.client.name': 'v2-client',
      'mcp.client.version': '2.1.0',
    });
  });

  test('outcomes: tool_error, unknown tool (-32602), timeout', async () => {
    otel.reset();
    await client.callTool({ name: 'soft-fail', arguments: {} });
    await assert.rejects(client.callTool({ name: 'no-such-tool', arguments: {} }), (e: any) => e.code === -32602);
    await assert.rejects(client.callTool({ name: 'slow', arguments: {} }, { timeout: 30 }), (e: any) => e.code === 'REQUEST_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const spans = otel.spans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const soft = only(spans, 'tools/call soft-fail', kind);
      assert.equal(soft.attributes['error.type'], 'tool_error');
      assert.equal(soft.status.code, SpanStatusCode.ERROR);
      const unknown = only(spans, 'tools/call no-such-tool', kind);
      assert.equal(unknown.attributes['error.type'], '-32602');
      assert.equal(unknown.attributes['rpc.response.status_code'], '-32602');
      assert.equal(unknown.status.code, kind === SpanKind.CLIENT ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    }
    assert.equal(only(spans, 'tools/call slow', SpanKind.CLIENT).attributes['error.type'], 'timeout');
    assert.equal(only(spans, 'tools/call slow', SpanKind.SERVER).attributes['error.type'], 'cancelled');
  });

  test('a server-initiated request from inside a tool (roots/list) is traced both ways', async () => {
    otel.reset();
    await client.callTool({ name: 'ask-roots', arguments: {} });
    const spans = otel.spans();
    const tool = only(spans, 'tools/call ask-roots', SpanKind.SERVER);
    const sent = only(spans, 'roots/list', SpanKind.CLIENT);
    const handled = only(spans, 'roots/list', SpanKind.SERVER);
    assert.equal(parentSpanIdOf(sent), tool.spanContext().spanId);
    assertHop(sent, handled);
  });
});

describe('across SDK generations', () => {
  test('a v1 client and a v2 server: one trace', async () => {
    const server = makeV2Server('v2-for-v1');
    const client = new v1.Client({ name: 'v1-client', version: '1.0.0' });
    const [a, b] = v2Server.InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    otel.reset();
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const spans = otel.spans();
    assertHop(only(spans, 'tools/call echo', SpanKind.CLIENT), only(spans, 'tools/call echo', SpanKind.SERVER));
    assert.equal(only(spans, 'tools/call echo', SpanKind.SERVER).attributes['mcp.client.name'], 'v1-client');
    await client.close();
  });

  test('a v2 client and a v1 server: one trace', async () => {
    const server = scenario.createScenarioServer({ McpServer: v1.McpServer, z: require(require.resolve('zod', { paths: [REPO_ROOT] })), types: v1.types });
    const client = new v2Client.Client({ name: 'v2-client', version: '2.0.0' });
    const [a, b] = v1.InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    otel.reset();
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const spans = otel.spans();
    assertHop(only(spans, 'tools/call echo', SpanKind.CLIENT), only(spans, 'tools/call echo', SpanKind.SERVER));
    assert.equal(only(spans, 'tools/call echo', SpanKind.CLIENT).attributes['mcp.server.name'], 'scenario-server');
    await client.close();
  });
});

describe('v2 as ES modules', () => {
  test('imported under the loader hook: the same spans', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-v2-esm-'));
    // Bare specifiers resolve next to the importing file: for another 2.x install, run a copy there.
    const app = V2_ROOT === REPO_ROOT ? fixture('v2-esm-app.mjs') : join(mkdtempSync(join(V2_ROOT, '.esm-check-')), 'app.mjs');
    if (app !== fixture('v2-esm-app.mjs')) copyFileSync(fixture('v2-esm-app.mjs'), app);
    try {
      const spanFile = join(dir, 'spans.jsonl');
      const run = spawnSync(process.execPath, ['--import', fixture('esm-loader.mjs'), app], {
        cwd: REPO_ROOT,
        env: { ...process.env, SPAN_FILE: spanFile, MCP_TEST_REPO: REPO_ROOT },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, '');
      const spans = readSpanFile(spanFile);
      const c = spans.find((s: any) => s.name === 'tools/call echo' && s.kind === SpanKind.CLIENT);
      const s = spans.find((x: any) => x.name === 'tools/call echo' && x.kind === SpanKind.SERVER);
      assert.ok(c && s, spans.map((x: any) => x.name).join(','));
      assert.equal(s.parentSpanId, c.spanId);
      assert.equal(s.traceId, c.traceId);
      assert.equal(s.attributes['mcp.client.name'], 'v2-esm-client');
      assert.equal(c.attributes['mcp.server.name'], 'v2-esm-server');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (app !== fixture('v2-esm-app.mjs')) rmSync(dirname(app), { recursive: true, force: true });
    }
  });
});

describe('v2: metrics, the JSON-line log and the audit trail', () => {
  test('one tool call on v2 is measured, logged and audited like on 1.x', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-v2-sinks-'));
    const reader = new (class extends sdkMetrics.MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    })();
    instrumentation.setMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
    const log = new JsonLogSpanProcessor({ destination: join(dir, 'ops.log') });
    const audit = new AuditSpanProcessor({ directory: join(dir, 'audit') });
    const exporter = new sdkTrace.InMemorySpanExporter();
    instrumentation.setTracerProvider(
      new sdkTrace.TracerProvider({ spanProcessors: [new sdkTrace.SimpleSpanProcessor({ exporter }), log, audit] as never }),
    );
    try {
      const server = makeV2Server('v2-sinks');
      const client = new v2Client.Client({ name: 'v2-sinks-client', version: '2.0.0' });
      const [a, b] = v2Server.InMemoryTransport.createLinkedPair();
      await server.connect(a);
      await client.connect(b);
      await client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await client.callTool({ name: 'soft-fail', arguments: {} });
      await client.close();
      await log.forceFlush();
      await audit.shutdown();

      const { resourceMetrics } = await reader.collect();
      const histogram = resourceMetrics.scopeMetrics.flatMap((m) => m.metrics).find((m) => m.descriptor.name === 'mcp.server.operation.duration')!;
      const calls = (histogram.dataPoints as any[])
        .filter((p) => p.attributes['mcp.method.name'] === 'tools/call')
        .map((p) => `${p.attributes['gen_ai.tool.name']} ${p.attributes['error.type'] ?? 'ok'} ${p.value.count}`)
        .sort();
      assert.deepEqual(calls, ['echo ok 1', 'soft-fail tool_error 1']);

      const lines = readFileSync(join(dir, 'ops.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const serverCalls = lines.filter((l) => l.side === 'server' && l.method === 'tools/call').map((l) => [l.tool, l.ok, l.peer_name]);
      assert.deepEqual(serverCalls, [['echo', true, 'v2-sinks-client'], ['soft-fail', false, 'v2-sinks-client']]);

      const result = verifyAuditTrail(join(dir, 'audit'));
      assert.equal(result.status, 'ok', JSON.stringify(result));
      const records = readdirSync(join(dir, 'audit'))
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(dir, 'audit', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)))
        .filter((r) => r.type === 'op' && r.method === 'tools/call');
      assert.deepEqual(records.map((r) => [r.tool, r.outcome]), [['echo', 'ok'], ['soft-fail', 'error']]);
      assert.match(records[0].args.sha256, /^[0-9a-f]{64}$/);
    } finally {
      instrumentation.setTracerProvider(otel.tracerProvider);
      instrumentation.setMeterProvider(otel.meterProvider);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('disable() restores v2 too', () => {
  test('the funnels and receivers are unwrapped, and wrapped again once on enable()', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isWrapped } = require('@opentelemetry/instrumentation');
    const proto = v2Server.Protocol.prototype;
    const names = ['connect', '_onrequest', '_onnotification', '_onresponse', '_oncancel', '_onerror', '_onclose', '_requestWithSchemaViaCodec', '_notificationViaCodec'];
    for (const name of names) assert.equal(isWrapped(proto[name]), true, name);
    assert.equal(isWrapped(proto.request), false, 'v2 request() is not wrapped: the funnel is');
    instrumentation.disable();
    for (const name of names) assert.equal(isWrapped(proto[name]), false, name);
    instrumentation.enable();
    instrumentation.enable();
    for (const name of names) {
      assert.equal(isWrapped(proto[name]), true, name);
      assert.equal(isWrapped(proto[name].__original), false, `${name} wrapped once`);
    }
  });
});
