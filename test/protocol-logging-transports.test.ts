/*
 * Protocol-level logging over real transports: a stdio child server (its records in a file) and
 * Streamable HTTP on loopback with two sessions subscribed at different levels.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import type * as NodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import * as sdkLogs from '@opentelemetry/sdk-logs';
import { McpInstrumentation, subscribeToServerLogs, type McpLogMessage } from '../src';
import { only, setupOtel, waitFor } from './helpers/otel';
import { childEnv, fixture } from './helpers/sdk';
import { mcpSdk } from './helpers/mcp';

const otel = setupOtel();
const instrumentation = new McpInstrumentation({ forwardOperationLogs: true });
const logExporter = new sdkLogs.InMemoryLogRecordExporter();
instrumentation.setLoggerProvider(
  new sdkLogs.LoggerProvider({ processors: [new sdkLogs.SimpleLogRecordProcessor({ exporter: logExporter })] }) as never,
);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = require('node:http') as typeof NodeHttp;

/* eslint-disable @typescript-eslint/no-explicit-any */
const mcp = mcpSdk();
const { McpServer, Client, StdioClientTransport, StreamableHTTPServerTransport, StreamableHTTPClientTransport } = mcp;
const NO_HTTP_SERVER = StreamableHTTPServerTransport === undefined && '@modelcontextprotocol/node is not installed next to the v2 packages';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readSpanFile } = require(fixture('otel-child.cjs'));

function readLines(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

for (const flavour of ['cjs', 'esm'] as const) {
  describe(`stdio child server (${flavour})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-logging-stdio-'));
    const spanFile = join(dir, 'spans.jsonl');
    const logFile = join(dir, 'logs.jsonl');
    let client: any;
    const received: McpLogMessage[] = [];
    /** What subscribing threw (the tests fail with it). */
    let subscribeError: unknown;

    before(async () => {
      logExporter.reset();
      otel.reset();
      client = new Client({ name: 'stdio-log-client', version: '1.0.0' });
      const args = flavour === 'cjs' ? [fixture('stdio-server.cjs')] : ['--import', fixture('esm-loader.mjs'), fixture('stdio-server.mjs')];
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args,
          env: childEnv({ SPAN_FILE: spanFile, LOG_FILE: logFile, FORWARD_LOGS: '1' }),
          stderr: 'inherit',
        }),
      );
      subscribeError = await subscribeToServerLogs(client, { level: 'info', sink: (m) => received.push(m) }).then(() => undefined, (error: unknown) => error);
    });
    after(async () => {
      await client?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the server\'s log message is a record on both sides, in the client\'s trace', async () => {
      if (subscribeError !== undefined) throw subscribeError;
      await client.callTool({ name: 'log', arguments: {} });
      await waitFor(() => readLines(logFile).some((r) => r.attributes['mcp.logging.logger'] === 'scenario'), 5000, 'server log record');
      const clientSpan = only(otel.spans(), 'tools/call log', SpanKind.CLIENT);
      const serverRecord = readLines(logFile).find((r) => r.attributes['mcp.logging.logger'] === 'scenario');
      assert.equal(serverRecord.severityNumber, 9);
      assert.equal(serverRecord.severityText, 'INFO');
      assert.equal(serverRecord.attributes['mcp.client.name'], 'stdio-log-client');
      const serverToolSpan = readSpanFile(spanFile).find((s: any) => s.name === 'tools/call log' && s.kind === SpanKind.SERVER);
      assert.equal(serverRecord.traceId, clientSpan.spanContext().traceId);
      assert.equal(serverRecord.spanId, serverToolSpan.spanId, 'the server record belongs to its tool call');
      const clientRecord = logExporter.getFinishedLogRecords().find((r) => r.attributes['mcp.logging.logger'] === 'scenario')!;
      assert.equal(clientRecord.severityText, 'INFO');
      assert.equal(clientRecord.attributes['mcp.server.name'], `stdio-server-${flavour}`);
      assert.equal(clientRecord.spanContext?.spanId, clientSpan.spanContext().spanId, 'the client record belongs to its request');
      const message = received.find((m) => m.logger === 'scenario')!;
      assert.deepEqual([message.level, message.data, message.serverName], ['info', 'hello from the tool', `stdio-server-${flavour}`]);
    });

    test('operation logs are forwarded to the subscribed client', async () => {
      if (subscribeError !== undefined) throw subscribeError;
      received.length = 0;
      await client.callTool({ name: 'soft-fail', arguments: {} });
      await waitFor(() => received.some((m) => m.logger === 'mcp.operations'), 5000, 'forwarded operation log');
      const forwarded = received.filter((m) => m.logger === 'mcp.operations').map((m) => ({ ...(m.data as object), latency_ms: 0 }));
      assert.deepEqual(forwarded, [{ method: 'tools/call', tool: 'soft-fail', latency_ms: 0, ok: false, error_type: 'tool_error' }]);
      assert.equal(received.find((m) => m.logger === 'mcp.operations')!.level, 'error');
    });
  });
}

describe('Streamable HTTP: two sessions at different levels', { skip: NO_HTTP_SERVER }, () => {
  let httpServer: NodeHttp.Server;
  let url: URL;
  const transports = new Map<string, any>();

  before(async () => {
    httpServer = http.createServer(async (req, res) => {
      const sessionId = req.headers['mcp-session-id'] as string | undefined;
      let transport = sessionId !== undefined ? transports.get(sessionId) : undefined;
      if (transport === undefined) {
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id: string) => transports.set(id, transport),
        });
        const server = new McpServer({ name: 'http-log-server', version: '1.0.0' }, { capabilities: { logging: {} } });
        if (!server.server._requestHandlers.has('logging/setLevel')) {
          mcp.setRequestHandler(server.server, 'logging/setLevel', async () => ({}));
        }
        mcp.tool(server, 'log-all', 'one message per level', {}, async (_args: unknown, extra) => {
          for (const level of ['debug', 'info', 'warning', 'error']) {
            await server.server.sendLoggingMessage({ level, logger: 'levels', data: level }, extra.sessionId);
          }
          return { content: [] };
        });
        await server.connect(transport);
      }
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`);
  });
  after(async () => {
    for (const t of transports.values()) await t.close();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  test('each session receives its own levels, records are correlated, forwarding honours the level', async () => {
    const connect = async (name: string) => {
      const client = new Client({ name, version: '1' });
      await client.connect(new StreamableHTTPClientTransport(url));
      return client;
    };
    const debugClient = await connect('debug-client');
    const errorClient = await connect('error-client');
    const got: Record<string, McpLogMessage[]> = { debug: [], error: [] };
    await subscribeToServerLogs(debugClient, { level: 'debug', sink: (m) => got.debug!.push(m) });
    await subscribeToServerLogs(errorClient, { level: 'error', sink: (m) => got.error!.push(m) });
    logExporter.reset();
    otel.reset();
    await debugClient.callTool({ name: 'log-all', arguments: {} });
    await errorClient.callTool({ name: 'log-all', arguments: {} });
    await waitFor(() => got.debug!.some((m) => m.logger === 'mcp.operations'), 5000, 'the forwarded operation log');
    await waitFor(() => got.error!.some((m) => m.logger === 'levels'), 5000, 'the error session\'s log');
    const levels = (list: McpLogMessage[]) => list.filter((m) => m.logger === 'levels').map((m) => m.level);
    if (mcp.v1AtLeast(18)) {
      // The SDK filters by each session's level.
      assert.deepEqual(levels(got.debug!), ['debug', 'info', 'warning', 'error']);
      assert.deepEqual(levels(got.error!), ['error']);
    } else {
      assert.deepEqual(levels(got.debug!), ['debug', 'info', 'warning', 'error']);
      assert.deepEqual(levels(got.error!), ['debug', 'info', 'warning', 'error']);
    }
    // Forwarded operation logs honour each session's level: info for the debug session (from its
    // logging/setLevel on), nothing for the error session (its calls succeeded).
    const ops = (list: McpLogMessage[]) => list.filter((m) => m.logger === 'mcp.operations').map((m) => (m.data as { tool?: string; method: string }).tool ?? (m.data as { method: string }).method);
    assert.deepEqual(ops(got.debug!), ['logging/setLevel', 'log-all']);
    assert.deepEqual(ops(got.error!), []);
    // Every record of the debug client's messages is correlated with its tools/call CLIENT span.
    const debugCall = otel.spans().find((s) => s.name === 'tools/call log-all' && s.kind === SpanKind.CLIENT && s.attributes['mcp.server.name'] === 'http-log-server' && got.debug!.some((m) => m.traceId === s.spanContext().traceId));
    assert.ok(debugCall, 'a debug-client message carries its call\'s trace');
    const clientRecords = logExporter
      .getFinishedLogRecords()
      .filter((r) => r.attributes['mcp.server.name'] === 'http-log-server' && r.attributes['mcp.logging.logger'] === 'levels' && r.spanContext?.traceId === debugCall.spanContext().traceId);
    assert.equal(clientRecords.length, 4);
    // Messages sent by sendLoggingMessage travel on the session's standalone stream, so they may arrive
    // after the response: then they are correlated with the server's span that sent them, in the trace.
    const traceSpans = new Set(otel.spans().filter((s) => s.spanContext().traceId === debugCall.spanContext().traceId).map((s) => s.spanContext().spanId));
    for (const r of clientRecords) assert.ok(traceSpans.has(r.spanContext!.spanId), `record span ${r.spanContext?.spanId} is in the call's trace`);
    await debugClient.close();
    await errorClient.close();
  });
});
