/*
 * The MCP duration histograms, through a real MeterProvider: instruments, attributes per outcome,
 * exact counts after a mixed workload, bounded cardinality, and independence from trace sampling.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation } from '../src';
import { connectScenario, mcpSdk } from './helpers/mcp';
import { setupOtel } from './helpers/otel';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, fixture } from './helpers/sdk';
import { mcpUrl, withHttpServer } from './helpers/net';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require('../../test/fixtures/scenario.cjs');

/* eslint-disable @typescript-eslint/no-explicit-any */
const mcp = mcpSdk();
const { Client } = mcp;
const NO_HTTP_SERVER = mcp.StreamableHTTPServerTransport === undefined && '@modelcontextprotocol/node is not installed next to the v2 packages';

class Reader extends sdkMetrics.MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Point {
  attributes: Record<string, unknown>;
  count: number;
  boundaries: number[];
}

async function histogramPoints(reader: sdkMetrics.MetricReader, name: string): Promise<{ unit: string; points: Point[] }> {
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      assert.equal(metric.dataPointType, sdkMetrics.DataPointType.HISTOGRAM, `${name} is a histogram`);
      return {
        unit: metric.descriptor.unit,
        points: metric.dataPoints.map((p: any) => ({
          attributes: p.attributes,
          count: p.value.count,
          boundaries: p.value.buckets.boundaries,
        })),
      };
    }
  }
  return { unit: '', points: [] };
}

/** Count of measurements per `key` (attributes picked by `keys`), for points matching `filter`. */
function countBy(points: Point[], keys: string[], filter: (a: Record<string, unknown>) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    if (!filter(p.attributes)) continue;
    const key = keys.map((k) => String(p.attributes[k] ?? '-')).join(' ');
    out[key] = (out[key] ?? 0) + p.count;
  }
  return out;
}

/** Count of `tools/call` measurements per `tool error.type` (`-` for a success). */
function toolOutcomes(points: Point[]): Record<string, number> {
  return countBy(points, ['gen_ai.tool.name', 'error.type'], (a) => a['mcp.method.name'] === 'tools/call');
}

/** Runs `work` with a fresh MeterProvider reading into its own Reader; the suite's provider is back after. */
async function withReader(work: (reader: Reader) => Promise<void>): Promise<void> {
  const reader = new Reader();
  instrumentation.setMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
  try {
    await work(reader);
  } finally {
    instrumentation.setMeterProvider(otel.meterProvider);
  }
}

const BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

describe('operation and session durations', () => {
  let reader: Reader;
  let meterProvider: sdkMetrics.MeterProvider;
  before(async () => {
    reader = new Reader();
    meterProvider = new sdkMetrics.MeterProvider({ readers: [reader] });
    // A meter provider set after construction: the instruments follow it.
    instrumentation.setMeterProvider(meterProvider);

    const { client, close } = await connectScenario();
    const N = 7;
    const M = 3;
    for (let i = 0; i < N; i++) await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
    for (let i = 0; i < M; i++) await client.callTool({ name: 'soft-fail', arguments: {} });
    await client.callTool({ name: 'fail', arguments: {} });
    await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }));
    await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }));
    await assert.rejects(mcp.request(client, 'no/such-method'));
    await assert.rejects(mcp.callTool(client, { name: 'slow', arguments: { ms: 1000 } }, { timeout: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await close();
  });
  after(() => {
    instrumentation.setMeterProvider(otel.meterProvider);
  });

  /** The workload's tool calls that were answered, by outcome (the slow one's outcome differs by side). */
  const ANSWERED_TOOLS = { 'echo -': 7, 'soft-fail tool_error': 3, 'fail tool_error': 1 };

  /** The points of operation histogram `name` (its unit and buckets checked), and its `tools/call` outcomes. */
  async function operationDurations(name: string): Promise<{ points: Point[]; tools: Record<string, number> }> {
    const { unit, points } = await histogramPoints(reader, name);
    assert.equal(unit, 's');
    for (const p of points) assert.deepEqual(p.boundaries, BUCKETS);
    return { points, tools: toolOutcomes(points) };
  }

  test('mcp.server.operation.duration: unit, buckets, and the per-tool count by outcome', async () => {
    const { points, tools } = await operationDurations('mcp.server.operation.duration');
    assert.deepEqual(tools, { ...ANSWERED_TOOLS, 'slow cancelled': 1 });
    const protocolErrors = countBy(points, ['mcp.method.name', 'error.type', 'rpc.response.status_code'], (a) => a['error.type'] !== undefined && a['mcp.method.name'] !== 'tools/call');
    assert.deepEqual(protocolErrors, {
      'prompts/get -32602 -32602': 2,
      // A method nobody handles is named by the peer: measured as _OTHER.
      '_OTHER -32601 -32601': 1,
    });
    const echo = points.find((p) => p.attributes['gen_ai.tool.name'] === 'echo')!;
    assert.deepEqual(Object.keys(echo.attributes).sort(), [
      'gen_ai.operation.name',
      'gen_ai.tool.name',
      'mcp.method.name',
      'mcp.protocol.version',
    ]);
    assert.equal(echo.attributes['gen_ai.operation.name'], 'execute_tool');
    const initialize = points.find((p) => p.attributes['mcp.method.name'] === 'initialize')!;
    assert.equal(initialize.count, 1);
  });

  test('mcp.client.operation.duration: the same workload from the client side', async () => {
    const { points, tools } = await operationDurations('mcp.client.operation.duration');
    assert.deepEqual(tools, { ...ANSWERED_TOOLS, 'slow timeout': 1 });
    const protocolErrors = countBy(points, ['mcp.method.name', 'error.type'], (a) => a['error.type'] !== undefined && a['mcp.method.name'] !== 'tools/call');
    assert.deepEqual(protocolErrors, { 'prompts/get -32602': 2, '_OTHER -32601': 1 });
  });

  test('notifications are measured too', async () => {
    const server = await histogramPoints(reader, 'mcp.server.operation.duration');
    const client = await histogramPoints(reader, 'mcp.client.operation.duration');
    const initialized = (points: Point[]) => countBy(points, ['mcp.method.name'], (a) => a['mcp.method.name'] === 'notifications/initialized');
    assert.deepEqual(initialized(server.points), { 'notifications/initialized': 1 });
    assert.deepEqual(initialized(client.points), { 'notifications/initialized': 1 });
    const cancelled = countBy(client.points, ['mcp.method.name'], (a) => a['mcp.method.name'] === 'notifications/cancelled');
    assert.deepEqual(cancelled, {}, 'the SDK sends notifications/cancelled itself, past the instrumented API');
  });

  test('session durations on both sides, once per connection', async () => {
    for (const name of ['mcp.server.session.duration', 'mcp.client.session.duration']) {
      const { unit, points } = await histogramPoints(reader, name);
      assert.equal(unit, 's');
      assert.equal(points.length, 1, name);
      assert.equal(points[0]!.count, 1);
      assert.deepEqual(points[0]!.boundaries, BUCKETS);
      assert.equal(points[0]!.attributes['error.type'], undefined);
      assert.match(String(points[0]!.attributes['mcp.protocol.version']), /^\d{4}-\d{2}-\d{2}$/);
    }
  });

  test('never a session id, request id or resource URI on a measurement', async () => {
    for (const name of ['mcp.server.operation.duration', 'mcp.client.operation.duration', 'mcp.server.session.duration', 'mcp.client.session.duration']) {
      for (const p of (await histogramPoints(reader, name)).points) {
        for (const key of ['mcp.session.id', 'jsonrpc.request.id', 'mcp.resource.uri']) {
          assert.equal(p.attributes[key], undefined, `${name} has no ${key}`);
        }
      }
    }
  });
});

describe('cardinality', () => {
  test('1,000 sessions with distinct ids produce the series of one', () =>
    withReader(async (reader) => {
      const seriesCount = async () => {
        let n = 0;
        for (const name of ['mcp.server.operation.duration', 'mcp.client.operation.duration', 'mcp.server.session.duration', 'mcp.client.session.duration']) {
          n += (await histogramPoints(reader, name)).points.length;
        }
        return n;
      };
      const session = async () => {
        const { client, close } = await connectScenario({ sessionId: randomUUID() });
        await client.callTool({ name: 'echo', arguments: { text: 'x' } });
        await client.readResource({ uri: 'test://static' });
        await close();
      };
      await session();
      const afterOne = await seriesCount();
      // initialize, notifications/initialized, tools/call, resources/read on each side, and two sessions.
      assert.equal(afterOne, 10);
      for (let i = 1; i < 1000; i++) await session();
      assert.equal(await seriesCount(), afterOne);
      const { points } = await histogramPoints(reader, 'mcp.server.operation.duration');
      const echo = points.find((p) => p.attributes['gen_ai.tool.name'] === 'echo')!;
      assert.equal(echo.count, 1000);
    }));
});

describe('peer-chosen names never grow the series', () => {
  test('unknown methods, tools and prompts are measured as _OTHER', () =>
    withReader(async (reader) => {
      const { client, close } = await connectScenario();
      for (let i = 0; i < 50; i++) {
        await assert.rejects(mcp.request(client, `made/up-${i}`));
        await assert.rejects(client.getPrompt({ name: `no-such-prompt-${i}` }));
        try {
          await client.callTool({ name: `no-such-tool-${i}`, arguments: {} });
        } catch {
          // older SDKs answer an unknown tool with -32602
        }
      }
      await client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await close();
      const { points } = await histogramPoints(reader, 'mcp.server.operation.duration');
      const methods = new Set(points.map((p) => p.attributes['mcp.method.name']));
      assert.deepEqual([...methods].sort(), ['_OTHER', 'initialize', 'notifications/initialized', 'prompts/get', 'tools/call']);
      const tools = new Set(points.filter((p) => p.attributes['mcp.method.name'] === 'tools/call').map((p) => p.attributes['gen_ai.tool.name']));
      assert.deepEqual([...tools].sort(), ['_OTHER', 'echo']);
      const prompts = new Set(points.filter((p) => p.attributes['mcp.method.name'] === 'prompts/get').map((p) => p.attributes['gen_ai.prompt.name']));
      assert.deepEqual([...prompts], ['_OTHER']);
      const other = countBy(points, ['mcp.method.name'], (a) => a['mcp.method.name'] === '_OTHER' || a['gen_ai.tool.name'] === '_OTHER' || a['gen_ai.prompt.name'] === '_OTHER');
      assert.deepEqual(other, { _OTHER: 50, 'prompts/get': 50, 'tools/call': 50 });
    }));
});

describe('stdio sessions', () => {
  test('a stdio server session ends, and is measured, when the host closes stdin', () =>
    withReader(async (reader) => {
      const { StdioServerTransport } = mcp;
      const { PassThrough } = await import('node:stream');
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const server = scenario.createScenarioServer(mcp);
      await server.connect(new StdioServerTransport(stdin, stdout));
      const answered = new Promise<string>((resolve) => stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
      stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
      assert.match(await answered, /"id":1/);
      assert.deepEqual((await histogramPoints(reader, 'mcp.server.session.duration')).points, []);
      stdin.end();
      await new Promise((resolve) => setImmediate(resolve));
      const { points } = await histogramPoints(reader, 'mcp.server.session.duration');
      assert.equal(points.length, 1);
      assert.equal(points[0]!.count, 1);
      assert.equal(points[0]!.attributes['network.transport'], 'pipe');
      await server.close();
      assert.equal((await histogramPoints(reader, 'mcp.server.session.duration')).points[0]!.count, 1, 'measured once');
    }));
});

describe('over real transports', () => {
  const mixedWorkload = async (client: any) => {
    for (let i = 0; i < 4; i++) await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
    for (let i = 0; i < 2; i++) await client.callTool({ name: 'soft-fail', arguments: {} });
    await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }));
    await assert.rejects(mcp.callTool(client, { name: 'slow', arguments: { ms: 2000 } }, { timeout: 30 }));
  };
  const expectedClientTools = { 'echo -': 4, 'soft-fail tool_error': 2, 'slow timeout': 1 };

  test('stdio: client-side measurements carry network.transport=pipe', () =>
    withReader(async (reader) => {
      const { StdioClientTransport } = mcp;
      const client = new Client({ name: 'metrics-stdio', version: '1' });
      try {
        await client.connect(new StdioClientTransport({ command: process.execPath, args: [fixture('stdio-server.cjs')], env: childEnv({ SPAN_FILE: join(tmpdir(), `mcp-metrics-${process.pid}.jsonl`) }), stderr: 'ignore' }));
        await mixedWorkload(client);
        const { points } = await histogramPoints(reader, 'mcp.client.operation.duration');
        assert.deepEqual(toolOutcomes(points), expectedClientTools);
        assert.deepEqual(countBy(points, ['mcp.method.name', 'error.type'], (a) => a['mcp.method.name'] === 'prompts/get'), { 'prompts/get -32602': 1 });
        for (const p of points) assert.equal(p.attributes['network.transport'], 'pipe');
      } finally {
        await client.close();
        rmSync(join(tmpdir(), `mcp-metrics-${process.pid}.jsonl`), { force: true });
      }
    }));

  test('Streamable HTTP: server.address/port on the client, network.* on both sides', { skip: NO_HTTP_SERVER }, () =>
    withReader(async (reader) => {
      const { StreamableHTTPServerTransport, StreamableHTTPClientTransport } = mcp;
      const transports = new Map<string, any>();
      const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const id = req.headers['mcp-session-id'] as string | undefined;
        let transport = id !== undefined ? transports.get(id) : undefined;
        if (transport === undefined) {
          transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid: string) => transports.set(sid, transport) });
          await scenario.createScenarioServer(mcp).connect(transport);
        }
        await transport.handleRequest(req, res);
      };
      await withHttpServer(listener, async (port) => {
        const client = new Client({ name: 'metrics-http', version: '1' });
        try {
          await client.connect(new StreamableHTTPClientTransport(mcpUrl(port)));
          await mixedWorkload(client);
          // The cancellation of the timed-out call travels in its own POST: wait for the server to take it.
          const deadline = Date.now() + 5000;
          while (!(await histogramPoints(reader, 'mcp.server.operation.duration')).points.some((p) => p.attributes['gen_ai.tool.name'] === 'slow')) {
            assert.ok(Date.now() < deadline, 'the server ends the cancelled call');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          await client.close();
          const clientPoints = (await histogramPoints(reader, 'mcp.client.operation.duration')).points;
          const serverPoints = (await histogramPoints(reader, 'mcp.server.operation.duration')).points;
          assert.deepEqual(toolOutcomes(clientPoints), expectedClientTools);
          assert.deepEqual(toolOutcomes(serverPoints), {
            'echo -': 4,
            'soft-fail tool_error': 2,
            'slow cancelled': 1,
          });
          for (const p of clientPoints) {
            assert.equal(p.attributes['server.address'], '127.0.0.1');
            assert.equal(p.attributes['server.port'], port);
            assert.equal(p.attributes['network.transport'], 'tcp');
            assert.equal(p.attributes['network.protocol.name'], 'http');
          }
          for (const p of serverPoints) {
            assert.equal(p.attributes['network.transport'], 'tcp');
            assert.equal(p.attributes['network.protocol.version'], '1.1');
            assert.equal(p.attributes['server.address'], undefined, 'server metrics have no server.*');
          }
        } finally {
          for (const t of transports.values()) await t.close();
        }
      });
    }));
});

describe('metrics do not depend on trace sampling', () => {
  test('a 0%-sampled tracer still measures every operation', () =>
    withReader(async (reader) => {
      const exporter = new sdkTrace.InMemorySpanExporter();
      instrumentation.setTracerProvider(
        new sdkTrace.TracerProvider({ sampler: new sdkTrace.AlwaysOffSampler(), spanProcessors: [new sdkTrace.SimpleSpanProcessor({ exporter })] }),
      );
      try {
        const { client, close } = await connectScenario();
        for (let i = 0; i < 5; i++) await client.callTool({ name: 'echo', arguments: { text: 'x' } });
        await client.callTool({ name: 'soft-fail', arguments: {} });
        await close();
        assert.equal(exporter.getFinishedSpans().length, 0, 'nothing sampled');
        const { points } = await histogramPoints(reader, 'mcp.server.operation.duration');
        assert.deepEqual(toolOutcomes(points), {
          'echo -': 5,
          'soft-fail tool_error': 1,
        });
      } finally {
        instrumentation.setTracerProvider(otel.tracerProvider);
      }
    }));
});
