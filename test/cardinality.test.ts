/*
 * Hostile peers cannot grow the number of metric series: methods the receiving side does not handle,
 * and tool or prompt names the server never advertised, are `_OTHER` on metrics (spans keep them), on
 * every server shape, in both directions.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { McpInstrumentation } from '../src';
import { sharedTemplateSetCount } from '../src/operation/templates';
import { mcpSdk } from './helpers/mcp';
import { setupOtel, waitFor } from './helpers/otel';

/* eslint-disable @typescript-eslint/no-explicit-any */
const otel = setupOtel();
const instrumentation = new McpInstrumentation();
const mcp = mcpSdk();

class Reader extends sdkMetrics.MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
const reader = new Reader();
instrumentation.setMeterProvider(new sdkMetrics.MeterProvider({ readers: [reader] }));
after(() => instrumentation.disable());

/** Every data point of `name`, as `attribute values joined by space` → count. */
async function series(name: string, keys: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints as any[]) {
        const key = keys.map((k) => String(point.attributes[k] ?? '-')).join(' ');
        out.set(key, (out.get(key) ?? 0) + point.value.count);
      }
    }
  }
  return out;
}

/** A low-level `Server` (not an `McpServer`) with the tools capability, whose `tools/call` takes any name. */
function lowLevelServer(options: { list?: string[] } = {}): any {
  const server = new mcp.McpServer({ name: 'low-level', version: '1.0.0' }, { capabilities: { tools: {} } }).server;
  if (options.list !== undefined) {
    const names = options.list;
    mcp.setRequestHandler(server, 'tools/list', () => ({ tools: names.map((name) => ({ name, inputSchema: { type: 'object' } })) }));
  }
  mcp.setRequestHandler(server, 'tools/call', (request: any) => {
    const name: string = request.params.name;
    if (name.startsWith('iserror')) return { content: [{ type: 'text', text: 'no' }], isError: true };
    if (name.startsWith('notfound')) throw new mcp.ProtocolError(-32601, `no tool ${name}`);
    if (name.startsWith('throws')) throw new Error(`failed ${name}`);
    return { content: [{ type: 'text', text: `ok ${name}` }] };
  });
  return server;
}

async function connect(server: any): Promise<{ client: any; clientTransport: any; serverTransport: any; close(): Promise<void> }> {
  const client = new mcp.Client({ name: 'cardinality-client', version: '1.0.0' });
  const [clientTransport, serverTransport] = mcp.InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return {
    client,
    clientTransport,
    serverTransport,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

async function callQuietly(client: any, name: string): Promise<void> {
  try {
    await mcp.callTool(client, { name, arguments: {} });
  } catch {
    // refusals are part of the workload
  }
}

describe('notifications nobody handles', () => {
  test('a client sending 300 made-up notification methods adds one server series (_OTHER); spans keep the names', async () => {
    await reader.collect(); // start from an empty cumulative view for these methods
    const server = lowLevelServer();
    const pair = await connect(server);
    otel.reset();
    try {
      for (let i = 0; i < 300; i++) await pair.clientTransport.send({ jsonrpc: '2.0', method: `notifications/x${i}` });
      await waitFor(() => otel.spans().filter((s) => s.kind === SpanKind.SERVER && s.name.startsWith('notifications/x')).length === 300, 5000, '300 SERVER spans');
      const made = await series('mcp.server.operation.duration', ['mcp.method.name']);
      assert.equal([...made.keys()].filter((k) => k.startsWith('notifications/x')).length, 0, 'no made-up method on metrics');
      assert.equal(made.get('_OTHER'), 300);
      const span = otel.spans().find((s) => s.name === 'notifications/x7')!;
      assert.equal(span.attributes['mcp.method.name'], 'notifications/x7');
    } finally {
      await pair.close();
    }
  });

  test('a server sending made-up notifications to a client: _OTHER on the client side too', async () => {
    const server = lowLevelServer();
    const pair = await connect(server);
    try {
      for (let i = 0; i < 200; i++) await pair.serverTransport.send({ jsonrpc: '2.0', method: `notifications/hostile${i}` });
      await waitFor(() => otel.spans().filter((s) => s.name.startsWith('notifications/hostile')).length === 200, 5000, '200 spans');
      const made = await series('mcp.server.operation.duration', ['mcp.method.name']);
      assert.equal([...made.keys()].filter((k) => k.startsWith('notifications/hostile')).length, 0);
    } finally {
      await pair.close();
    }
  });

  test('handled notifications keep their method on metrics', async () => {
    const made = await series('mcp.server.operation.duration', ['mcp.method.name']);
    assert.ok((made.get('notifications/initialized') ?? 0) > 0);
  });
});

describe('tool names on a low-level Server', () => {
  test('names never advertised are _OTHER whatever the outcome (isError, -32601, a thrown Error, success)', async () => {
    const server = lowLevelServer();
    const pair = await connect(server);
    try {
      for (let i = 0; i < 50; i++) {
        for (const kind of ['iserror', 'notfound', 'throws', 'fine']) await callQuietly(pair.client, `${kind}-${i}`);
      }
      const made = await series('mcp.server.operation.duration', ['mcp.method.name', 'gen_ai.tool.name', 'error.type']);
      const calls = [...made].filter(([k]) => k.split(' ')[1] !== '-');
      const names = new Set(calls.map(([k]) => k.split(' ')[1]));
      assert.deepEqual([...names], ['_OTHER']);
      assert.equal(made.get('tools/call _OTHER tool_error'), 50);
      assert.equal(made.get('tools/call _OTHER -'), 50);
      assert.ok(calls.length <= 4, `at most one series per outcome: ${calls.map(([k]) => k).join(', ')}`);
      const span = otel.spans().find((s) => s.name === 'tools/call fine-3' && s.kind === SpanKind.SERVER);
      assert.ok(span !== undefined, 'spans keep the name');
    } finally {
      await pair.close();
    }
  });

  test('names the server listed in tools/list are measured by name; others stay _OTHER', async () => {
    const server = lowLevelServer({ list: ['fine-listed', 'iserror-listed'] });
    const pair = await connect(server);
    try {
      await pair.client.listTools();
      await callQuietly(pair.client, 'fine-listed');
      await callQuietly(pair.client, 'iserror-listed');
      await callQuietly(pair.client, 'fine-unlisted');
      const made = await series('mcp.server.operation.duration', ['gen_ai.tool.name', 'error.type']);
      assert.equal(made.get('fine-listed -'), 1);
      assert.equal(made.get('iserror-listed tool_error'), 1);
      assert.equal(made.get('fine-unlisted -'), undefined);
    } finally {
      await pair.close();
    }
  });

  test('knownTargetNames names tools of a server that never lists them', async () => {
    instrumentation.setConfig({ knownTargetNames: ['fine-legacy'] });
    const server = lowLevelServer();
    const pair = await connect(server);
    try {
      await callQuietly(pair.client, 'fine-legacy');
      await callQuietly(pair.client, 'fine-other');
      const made = await series('mcp.server.operation.duration', ['gen_ai.tool.name']);
      assert.equal(made.get('fine-legacy'), 1);
      assert.equal(made.get('fine-other'), undefined);
    } finally {
      instrumentation.setConfig({});
      await pair.close();
    }
  });
});

describe('span templates shared between connections described alike', () => {
  test('two servers seen by one client name share templates, not what they know: a name one listed is _OTHER on the other', async () => {
    const listing = await connect(lowLevelServer({ list: ['fine-shared'] }));
    const silent = await connect(lowLevelServer());
    otel.reset();
    const keys = ['gen_ai.tool.name', 'mcp.method.name'];
    const before = await series('mcp.server.operation.duration', keys);
    try {
      await listing.client.listTools();
      await callQuietly(listing.client, 'fine-shared');
      await callQuietly(silent.client, 'fine-shared');
      const after = await series('mcp.server.operation.duration', keys);
      const added = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
      assert.equal(added('fine-shared tools/call'), 1);
      assert.equal(added('_OTHER tools/call'), 1);
      const spans = otel.spans().filter((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call fine-shared');
      assert.equal(spans.length, 2, 'spans keep the name on both servers');
    } finally {
      await listing.close();
      await silent.close();
    }
  });

  test('a client naming itself anew on every connection: each span has its own name; the shared table stays bounded', async () => {
    otel.reset();
    for (let i = 0; i < 80; i++) {
      const server = new mcp.McpServer({ name: 'named-anew', version: '1.0.0' });
      mcp.tool(server, 'echo', 'echo', {}, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
      const client = new mcp.Client({ name: `client-${i}`, version: '1.0.0' });
      const [clientTransport, serverTransport] = mcp.InMemoryTransport.createLinkedPair();
      await server.connect(serverTransport);
      await client.connect(clientTransport);
      await mcp.callTool(client, { name: 'echo', arguments: {} });
      await client.close();
      await server.close();
      assert.ok(sharedTemplateSetCount() <= 64, `${sharedTemplateSetCount()} shared template sets`);
    }
    const calls = otel.spans().filter((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call echo');
    assert.deepEqual(
      calls.map((s) => s.attributes['mcp.client.name']),
      Array.from({ length: 80 }, (_, i) => `client-${i}`),
    );
  });
});
