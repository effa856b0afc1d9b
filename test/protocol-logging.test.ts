/*
 * The MCP logging capability bridged to OpenTelemetry logs, on both sides: severity per level, trace
 * correlation, the application's own handler untouched, subscribeToServerLogs, per-session levels and
 * operation-log forwarding.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import * as sdkLogs from '@opentelemetry/sdk-logs';
import {
  McpInstrumentation,
  McpLoggingNotSupportedError,
  subscribeToServerLogs,
  type McpLogMessage,
} from '../src';
import { mcpSdk } from './helpers/mcp';
import { only, setupOtel } from './helpers/otel';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();
const logExporter = new sdkLogs.InMemoryLogRecordExporter();
const loggerProvider = new sdkLogs.LoggerProvider({ processors: [new sdkLogs.SimpleLogRecordProcessor({ exporter: logExporter })] });
instrumentation.setLoggerProvider(loggerProvider as never);

/* eslint-disable @typescript-eslint/no-explicit-any */
const mcp = mcpSdk();
const { McpServer, Client, InMemoryTransport } = mcp;

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
const SEVERITY: Record<string, number> = { debug: 5, info: 9, notice: 10, warning: 13, error: 17, critical: 18, alert: 19, emergency: 21 };

function makeServer(options: { logging?: boolean; name?: string } = {}): any {
  const server = new McpServer(
    { name: options.name ?? 'logging-server', version: '9.9.9' },
    { capabilities: options.logging === false ? {} : { logging: {} } },
  );
  // SDKs before 1.18 leave logging/setLevel to the application.
  if (options.logging !== false && !server.server._requestHandlers.has('logging/setLevel')) {
    mcp.setRequestHandler(server.server, 'logging/setLevel', async () => ({}));
  }
  mcp.tool(server, 'log-all', 'sends one message at every level', {}, async () => {
    for (const level of LEVELS) {
      await server.server.sendLoggingMessage({ level, logger: 'levels', data: { level } });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  mcp.tool(server, 'log-via-extra', 'logs through extra.sendNotification', {}, async (_args: unknown, extra) => {
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'warning', logger: 'extra', data: 'careful' } });
    return { content: [] };
  });
  mcp.tool(server, 'echo', 'echo', { text: mcp.z.string() }, async ({ text }: { text: string }) => ({ content: [{ type: 'text', text }] }));
  mcp.tool(server, 'soft-fail', 'tool error', {}, async () => ({ isError: true, content: [{ type: 'text', text: 'nope' }] }));
  return server;
}

async function pair(server: any, clientName = 'logging-client'): Promise<{ client: any; server: any; close(): Promise<void> }> {
  const client = new Client({ name: clientName, version: '1.0.0' });
  const [c, s] = InMemoryTransport.createLinkedPair();
  await server.connect(s);
  await client.connect(c);
  return {
    client,
    server,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

function records(): sdkLogs.ReadableLogRecord[] {
  return logExporter.getFinishedLogRecords();
}

const tracer = trace.getTracer('test');

describe('log messages become OpenTelemetry log records on both sides', () => {
  let session: Awaited<ReturnType<typeof pair>>;
  const appHandlerCalls: any[] = [];
  before(async () => {
    session = await pair(makeServer());
    // The application's own handler: it must keep receiving every message, once.
    mcp.setNotificationHandler(session.client, 'notifications/message', (n: any) => {
      appHandlerCalls.push(n.params);
    });
    await session.client.setLoggingLevel('debug');
  });
  after(async () => {
    await session.close();
  });
  beforeEach(() => {
    logExporter.reset();
    otel.reset();
    appHandlerCalls.length = 0;
  });

  test('all eight levels: severity number and text, logger, sent and received', async () => {
    await session.client.callTool({ name: 'log-all', arguments: {} });
    await new Promise((resolve) => setImmediate(resolve));
    const all = records();
    assert.equal(all.length, 16, 'eight sent (server side) and eight received (client side)');
    for (const level of LEVELS) {
      const mine = all.filter((r) => r.attributes['mcp.logging.level'] === level);
      assert.equal(mine.length, 2, level);
      for (const r of mine) {
        assert.equal(r.severityNumber, SEVERITY[level]);
        assert.equal(r.severityText, level.toUpperCase());
        assert.equal(r.attributes['mcp.logging.logger'], 'levels');
        assert.equal(r.attributes['mcp.method.name'], 'notifications/message');
        assert.equal(r.body, undefined, 'data is user content: no body without capture');
      }
      assert.deepEqual(mine.map((r) => r.attributes['mcp.server.name'] ?? r.attributes['mcp.client.name']).sort(), ['logging-client', 'logging-server']);
    }
    assert.equal(appHandlerCalls.length, 8, 'the application handler saw each message exactly once');
    assert.deepEqual(appHandlerCalls.map((p) => p.level), [...LEVELS]);
  });

  test('trace correlation: the server side with the tool span, the client side with its request span', async () => {
    await tracer.startActiveSpan('app', async (span: Span) => {
      await session.client.callTool({ name: 'log-via-extra', arguments: {} });
      span.end();
    });
    await new Promise((resolve) => setImmediate(resolve));
    const spans = otel.spans();
    const serverSpan = only(spans, 'tools/call log-via-extra', SpanKind.SERVER);
    const clientSpan = only(spans, 'tools/call log-via-extra', SpanKind.CLIENT);
    const sent = records().find((r) => r.attributes['mcp.server.name'] === undefined)!;
    const received = records().find((r) => r.attributes['mcp.server.name'] === 'logging-server')!;
    assert.equal(sent.spanContext?.spanId, serverSpan.spanContext().spanId, 'server record: the tool call being handled');
    assert.equal(received.spanContext?.spanId, clientSpan.spanContext().spanId, 'client record: its request that the server was handling');
    assert.equal(received.spanContext?.traceId, clientSpan.spanContext().traceId);
    assert.equal(sent.severityText, 'WARNING');
    assert.equal(appHandlerCalls.length, 1);
  });

  test('with content capture on, the data is the body, redacted and capped', async () => {
    instrumentation.setConfig({ captureContent: true, maxContentLength: 200 });
    try {
      mcp.tool(session.server, 'log-secret', 'logs a secret', {}, async () => {
        await session.server.server.sendLoggingMessage({ level: 'info', logger: 'auth', data: { user: 'ada', token: 'abc' } });
        return { content: [] };
      });
      await session.client.callTool({ name: 'log-secret', arguments: {} });
      await new Promise((resolve) => setImmediate(resolve));
      const bodies = records().map((r) => r.body);
      assert.deepEqual(bodies, ['{"user":"ada","token":"[REDACTED]"}', '{"user":"ada","token":"[REDACTED]"}']);
    } finally {
      instrumentation.setConfig({});
    }
  });

  test('a client with no handler of its own still bridges, and bridging can be turned off', async () => {
    const own = await pair(makeServer(), 'no-handler-client');
    await own.client.setLoggingLevel('info');
    logExporter.reset();
    await own.client.callTool({ name: 'log-via-extra', arguments: {} });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(records().filter((r) => r.attributes['mcp.server.name'] === 'logging-server').length, 1);
    instrumentation.setConfig({ bridgeProtocolLogs: false });
    try {
      logExporter.reset();
      await own.client.callTool({ name: 'log-via-extra', arguments: {} });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(records().length, 0);
    } finally {
      instrumentation.setConfig({});
      await own.close();
    }
  });
});

describe('subscribeToServerLogs', () => {
  test('subscribes at a level and pipes each message to the sink; the app handler still runs once', async () => {
    const session = await pair(makeServer());
    const app: string[] = [];
    mcp.setNotificationHandler(session.client, 'notifications/message', (n: any) => app.push(n.params.level));
    const got: McpLogMessage[] = [];
    const unsubscribe = await subscribeToServerLogs(session.client, { level: 'warning', sink: (m) => got.push(m) });
    await session.client.callTool({ name: 'log-all', arguments: {} });
    await new Promise((resolve) => setImmediate(resolve));
    // From SDK 1.18 the server filters by the subscribed level; before, it sends every message.
    const expected = mcp.v1AtLeast(18) ? ['warning', 'error', 'critical', 'alert', 'emergency'] : [...LEVELS];
    assert.deepEqual(
      got.map((m) => [m.level, m.logger, m.serverName]),
      expected.map((l) => [l, 'levels', 'logging-server']),
    );
    assert.deepEqual(got[0]!.data, { level: expected[0] });
    assert.deepEqual(app, expected);
    unsubscribe();
    got.length = 0;
    await session.client.callTool({ name: 'log-all', arguments: {} });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(got.length, 0);
    await session.close();
  });

  test('an object sink with writeLogMessage works; a throwing sink breaks nothing', async () => {
    const session = await pair(makeServer());
    const got: string[] = [];
    await subscribeToServerLogs(session.client, { level: 'debug', sink: () => { throw new Error('sink bug'); } });
    await subscribeToServerLogs(session.client, { level: 'debug', sink: { writeLogMessage: (m) => got.push(m.level) } });
    const result = await session.client.callTool({ name: 'log-via-extra', arguments: {} });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(result.content, []);
    assert.deepEqual(got, ['warning']);
    await session.close();
  });

  test('a server without the logging capability: a typed error, nothing sent', async () => {
    const session = await pair(makeServer({ logging: false, name: 'quiet-server' }));
    otel.reset();
    await assert.rejects(
      subscribeToServerLogs(session.client, { level: 'info', sink: () => undefined }),
      (error: unknown) => error instanceof McpLoggingNotSupportedError && /quiet-server/.test(error.message),
    );
    assert.equal(otel.spans().filter((s) => s.name === 'logging/setLevel').length, 0);
    await session.close();
  });

  test('invalid arguments are rejected with TypeErrors', async () => {
    const session = await pair(makeServer());
    await assert.rejects(subscribeToServerLogs(session.client, { level: 'loud' as never, sink: () => undefined }), TypeError);
    await assert.rejects(subscribeToServerLogs(session.client, { level: 'info', sink: 42 as never }), TypeError);
    await assert.rejects(subscribeToServerLogs({}, { level: 'info', sink: () => undefined }), TypeError);
    await session.close();
  });
});

describe('forwarding operation logs to subscribed clients', () => {
  after(() => instrumentation.setConfig({}));

  test('per-session levels: two sessions at different levels each get what they asked for', async () => {
    instrumentation.setConfig({ forwardOperationLogs: true });
    const infoSession = await pair(makeServer(), 'info-client');
    const errorSession = await pair(makeServer(), 'error-client');
    const silentSession = await pair(makeServer(), 'silent-client');
    const got: Record<string, any[]> = { info: [], error: [], silent: [] };
    await subscribeToServerLogs(infoSession.client, { level: 'info', sink: (m) => got.info!.push(m.data) });
    await subscribeToServerLogs(errorSession.client, { level: 'error', sink: (m) => got.error!.push(m.data) });
    mcp.setNotificationHandler(silentSession.client, 'notifications/message', (n: any) => got.silent!.push(n.params.data));
    for (const s of [infoSession, errorSession, silentSession]) {
      await s.client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await s.client.callTool({ name: 'soft-fail', arguments: {} });
    }
    await new Promise((resolve) => setImmediate(resolve));
    const strip = (d: any) => ({ ...d, latency_ms: typeof d.latency_ms });
    assert.deepEqual(got.info!.map(strip), [
      { method: 'logging/setLevel', latency_ms: 'number', ok: true },
      { method: 'tools/call', tool: 'echo', latency_ms: 'number', ok: true },
      { method: 'tools/call', tool: 'soft-fail', latency_ms: 'number', ok: false, error_type: 'tool_error' },
    ]);
    assert.deepEqual(got.error!.map(strip), [{ method: 'tools/call', tool: 'soft-fail', latency_ms: 'number', ok: false, error_type: 'tool_error' }]);
    assert.deepEqual(got.silent, [], 'never to a client that did not subscribe');
    // Forwarded messages are not traced by the server that sends them (receiving clients still see them).
    assert.equal(otel.spans().filter((s) => s.name === 'notifications/message' && s.kind === SpanKind.CLIENT).length, 0);
    assert.equal(otel.spans().filter((s) => s.name === 'notifications/message' && s.kind === SpanKind.SERVER).length, 4);
    for (const s of [infoSession, errorSession, silentSession]) await s.close();
  });

  test('off by default, and never from a server without the logging capability', async () => {
    instrumentation.setConfig({});
    const session = await pair(makeServer());
    const got: unknown[] = [];
    await subscribeToServerLogs(session.client, { level: 'debug', sink: (m) => got.push(m) });
    await session.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(got, []);
    await session.close();

    instrumentation.setConfig({ forwardOperationLogs: true });
    const quiet = await pair(makeServer({ logging: false }));
    const heard: unknown[] = [];
    mcp.setNotificationHandler(quiet.client, 'notifications/message', (n: any) => heard.push(n));
    await quiet.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(heard, []);
    await quiet.close();
  });
});
