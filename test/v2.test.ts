/*
 * What only the split v2 packages (`@modelcontextprotocol/server`, `/client`, `/node` 2.x) have, whatever
 * MCP_SDK_MAJOR says: both v2 packages as ES modules in one app, requests the SDK refuses before any
 * handler (and a 1.x client's refused request), SdkError codes, @modelcontextprotocol/node (the audit
 * actor from `req.auth`, stateless and modern-era exchanges, ESM), and disable/enable of the v2 funnels.
 * The behaviour both generations share is proven by the shared suites run with MCP_SDK_MAJOR=2
 * (in-memory, stdio, http, metrics, json-log, audit, protocol-logging), cross-generation included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation } from '../src';
import { AuditSpanProcessor } from '../src/audit';
import { generationRoot, mcpGeneration } from './helpers/mcp';
import { only, parentSpanIdOf, setupOtel, type FinishedSpan } from './helpers/otel';
import { fixture, REPO_ROOT } from './helpers/sdk';
import { closeServer, listen, mcpUrl } from './helpers/net';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
// The v2 packages of MCP_V2_ROOT (another 2.x release), else the repository's, whatever MCP_SDK_MAJOR says.
const v2 = mcpGeneration(2);
const V2_ROOT = generationRoot(2);
const v2Server = v2.modules!.server;
const v2Client = v2.modules!.client;
const z4 = v2.z;
// v2's Node HTTP adapters (`NodeStreamableHTTPServerTransport`, `toNodeHandler`): a separate package,
// tested where it is installed next to the server package.
const v2Node = v2.modules!.node;
const NO_V2_NODE = v2Node === undefined ? '@modelcontextprotocol/node is not installed next to the v2 packages' : false;
// The 1.x SDK the refusal test's client comes from.
const v1 = mcpGeneration(1);
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

/**
 * Runs the ES-module app `name` of test/fixtures under the loader hook, and returns the spans it wrote.
 * Bare specifiers resolve next to the importing file: unless `inPlace`, a copy runs next to the v2
 * install under test. Asserts a clean exit and an empty stdout.
 */
function runEsmApp(name: string, inPlace: boolean): any[] {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-v2-esm-'));
  const app = inPlace ? fixture(name) : join(mkdtempSync(join(V2_ROOT, '.esm-check-')), 'app.mjs');
  if (!inPlace) copyFileSync(fixture(name), app);
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
    return readSpanFile(spanFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!inPlace) rmSync(dirname(app), { recursive: true, force: true });
  }
}

describe('v2 as ES modules', () => {
  test('imported under the loader hook: the same spans', () => {
    const spans = runEsmApp('v2-esm-app.mjs', V2_ROOT === REPO_ROOT);
    const c = spans.find((s: any) => s.name === 'tools/call echo' && s.kind === SpanKind.CLIENT);
    const s = spans.find((x: any) => x.name === 'tools/call echo' && x.kind === SpanKind.SERVER);
    assert.ok(c && s, spans.map((x: any) => x.name).join(','));
    assert.equal(s.parentSpanId, c.spanId);
    assert.equal(s.traceId, c.traceId);
    assert.equal(s.attributes['mcp.client.name'], 'v2-esm-client');
    assert.equal(c.attributes['mcp.server.name'], 'v2-esm-server');
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

/** The SDK's own legacy versions (so that 1.x clients back to 1.10 connect) and the modern revision. */
const LEGACY_AND_MODERN = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07', '2026-07-28'];

/** Sends raw JSON-RPC to a v2 server over the in-memory transport; collects what comes back. */
async function rawPeer(server: any): Promise<{ send(message: unknown): Promise<void>; received: any[] }> {
  const [serverSide, peerSide] = v2Server.InMemoryTransport.createLinkedPair();
  const received: any[] = [];
  peerSide.onmessage = (message: unknown) => received.push(message);
  await server.connect(serverSide);
  await peerSide.start();
  return { send: (message) => peerSide.send(message), received };
}

describe('v2: requests the SDK refuses before any handler runs get a SERVER span', () => {
  test('raw JSON-RPC in memory: a spec method the negotiated era lacks, an unknown method (-32601); what is sent is unchanged', async () => {
    // Offering the modern revision makes the SDK register its own `server/discover` handler, which a
    // connection on the legacy era still refuses (the method is not in that era's codec).
    const server = new v2Server.McpServer({ name: 'refuser', version: '1.0.0' }, { supportedProtocolVersions: LEGACY_AND_MODERN });
    assert.equal(server.server._requestHandlers.has('server/discover'), true, 'precondition: a handler exists');
    const peer = await rawPeer(server);
    otel.reset();
    await peer.send({ jsonrpc: '2.0', id: 7, method: 'server/discover', params: {} });
    await peer.send({ jsonrpc: '2.0', id: 'eight', method: 'no/such-method', params: {} });
    await peer.send({ jsonrpc: '2.0', id: 9, method: 'ping' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(peer.received, [
      { jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found' } },
      { jsonrpc: '2.0', id: 'eight', error: { code: -32601, message: 'Method not found' } },
      { result: {}, jsonrpc: '2.0', id: 9 },
    ]);
    const spans = otel.spans();
    assert.deepEqual(
      spans.map((s) => `${SpanKind[s.kind]} ${s.name}`),
      ['SERVER server/discover', 'SERVER no/such-method', 'SERVER ping'],
    );
    for (const [name, id] of [['server/discover', '7'], ['no/such-method', 'eight']]) {
      const span = only(spans, name!, SpanKind.SERVER);
      assert.deepEqual(span.attributes, {
        'mcp.method.name': name,
        'jsonrpc.request.id': id,
        'error.type': '-32601',
        'rpc.response.status_code': '-32601',
      });
      // The caller's fault: not an error of the server (as on 1.x).
      assert.equal(span.status.code, SpanStatusCode.UNSET);
      assert.equal(parentSpanIdOf(span), undefined);
    }
    assert.equal(only(spans, 'ping', SpanKind.SERVER).attributes['error.type'], undefined);
    await server.close();
  });

  test('a 1.x client asking a v2 server for a method its era lacks: the refusal continues the caller trace', async () => {
    const server = new v2Server.McpServer({ name: 'v2-refuser', version: '1.0.0' }, { supportedProtocolVersions: LEGACY_AND_MODERN });
    const client = new v1.Client({ name: 'v1-asker', version: '1.0.0' });
    const [a, b] = v2Server.InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    otel.reset();
    await assert.rejects(client.request({ method: 'server/discover', params: {} }, v1.types.EmptyResultSchema), (e: any) => e.code === -32601);
    const spans = otel.spans();
    const c = only(spans, 'server/discover', SpanKind.CLIENT);
    const s = only(spans, 'server/discover', SpanKind.SERVER);
    assertHop(c, s);
    assert.deepEqual(s.attributes, {
      'mcp.method.name': 'server/discover',
      'jsonrpc.request.id': c.attributes['jsonrpc.request.id'],
      'mcp.protocol.version': c.attributes['mcp.protocol.version'],
      'mcp.client.name': 'v1-asker',
      'mcp.client.version': '1.0.0',
      'error.type': '-32601',
      'rpc.response.status_code': '-32601',
    });
    assert.equal(c.attributes['error.type'], '-32601');
    assert.equal(c.status.code, SpanStatusCode.ERROR);
    await client.close();
  });

  test('a request classified for another protocol era (-32022), through the per-request HTTP transport', async () => {
    const server = new v2Server.Server({ name: 'legacy-only', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler('tools/list', () => ({ tools: [] }));
    const transport = new v2Server.PerRequestHTTPServerTransport({ classification: { era: 'modern', revision: '2026-07-28' } });
    await server.connect(transport);
    otel.reset();
    const response = await transport.handleMessage({ jsonrpc: '2.0', id: 'r-1', method: 'tools/list', params: {} });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.code, -32022);
    assert.equal(body.id, 'r-1');
    const span = only(otel.spans(), 'tools/list', SpanKind.SERVER);
    assert.deepEqual(span.attributes, {
      'mcp.method.name': 'tools/list',
      'jsonrpc.request.id': 'r-1',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'error.type': '-32022',
      'rpc.response.status_code': '-32022',
    });
    // -32022 is not among the codes the conventions call the caller's fault.
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, body.error.message);
    await server.close();
  });

  test('a modern-era server: a request without the per-request _meta envelope (-32602)', async (t) => {
    const server = new v2Server.Server({ name: 'modern', version: '1.0.0' }, { capabilities: { tools: {} }, supportedProtocolVersions: LEGACY_AND_MODERN });
    server.setRequestHandler('tools/list', () => ({ tools: [] }));
    const transport = new v2Server.PerRequestHTTPServerTransport({ classification: { era: 'modern', revision: '2026-07-28' } });
    await server.connect(transport);
    if (server._negotiatedProtocolVersion !== '2026-07-28') {
      t.skip('this release does not bind a server to the modern era from its per-request transport');
      await server.close();
      return;
    }
    otel.reset();
    const response = await transport.handleMessage({ jsonrpc: '2.0', id: 'r-2', method: 'tools/list', params: {} });
    const body = await response.json();
    assert.equal(body.error.code, -32602);
    const span = only(otel.spans(), 'tools/list', SpanKind.SERVER);
    assert.deepEqual(span.attributes, {
      'mcp.method.name': 'tools/list',
      'jsonrpc.request.id': 'r-2',
      'mcp.protocol.version': '2026-07-28',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'error.type': '-32602',
      'rpc.response.status_code': '-32602',
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    await server.close();
  });

  test('a transport whose own send is an instance property is left alone; a request nobody handles still gets its span', async () => {
    const server = new v2Server.McpServer({ name: 'custom-transport', version: '1.0.0' });
    const sent: unknown[] = [];
    const transport: any = {
      start: async () => {},
      close: async () => transport.onclose?.(),
      send: async (message: unknown) => {
        sent.push(message);
      },
    };
    const ownSend = transport.send;
    await server.connect(transport);
    const keys = Object.keys(transport).sort();
    otel.reset();
    transport.onmessage({ jsonrpc: '2.0', id: 1, method: 'no/such-method', params: {} });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(transport.send, ownSend);
    assert.deepEqual(Object.keys(transport).sort(), keys);
    assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } }]);
    const span = only(otel.spans(), 'no/such-method', SpanKind.SERVER);
    assert.equal(span.attributes['error.type'], '-32601');
    await server.close();
  });
});

describe('v2: error codes and error.type on both sides', () => {
  let client: any;
  let server: any;
  let release: (() => void) | undefined;
  before(async () => {
    server = new v2Server.McpServer({ name: 'v2-errors', version: '1.0.0' }, { capabilities: { resources: {} } });
    server.registerResource('gone', 'mem://gone', {}, async () => {
      throw new v2Server.ProtocolError(v2Server.ProtocolErrorCode.ResourceNotFound, 'gone away', { uri: 'mem://gone' });
    });
    server.registerTool('hang', { description: 'in flight until the connection closes' }, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { content: [] };
    });
    // A method outside the spec, answered with a result the client's schema refuses.
    server.server.fallbackRequestHandler = async () => ({ n: 'not a number' });
    client = new v2Client.Client({ name: 'v2-errors-client', version: '1.0.0' }, { enforceStrictCapabilities: true });
    const [a, b] = v2Server.InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
  });
  after(async () => {
    release?.();
    await client.close().catch(() => {});
  });

  test('resource not found thrown as -32002: v2 sends -32602, and both spans say -32602', async () => {
    otel.reset();
    await assert.rejects(client.readResource({ uri: 'mem://gone' }), (e: any) => e.code === -32602);
    const spans = otel.spans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(spans, 'resources/read', kind);
      assert.equal(span.attributes['error.type'], '-32602', SpanKind[kind]);
      assert.equal(span.attributes['rpc.response.status_code'], '-32602', SpanKind[kind]);
      assert.equal(span.status.code, kind === SpanKind.CLIENT ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, SpanKind[kind]);
    }
    assert.equal(only(spans, 'resources/read', SpanKind.SERVER).status.message, undefined);
  });

  test('SdkError INVALID_RESULT and CAPABILITY_NOT_SUPPORTED: the code is the error.type of the CLIENT span', async () => {
    otel.reset();
    await assert.rejects(client.request({ method: 'x/custom', params: {} }, z4.object({ n: z4.number() })), (e: any) => e.code === 'INVALID_RESULT');
    await assert.rejects(client.listPrompts(), (e: any) => e.code === 'CAPABILITY_NOT_SUPPORTED');
    const spans = otel.spans();
    const invalid = only(spans, 'x/custom', SpanKind.CLIENT);
    assert.equal(invalid.attributes['error.type'], 'INVALID_RESULT');
    assert.equal(invalid.attributes['rpc.response.status_code'], undefined);
    assert.equal(invalid.status.code, SpanStatusCode.ERROR);
    assert.match(String(invalid.status.message), /^Invalid result for x\/custom/);
    // The server answered: its side succeeded.
    assert.equal(only(spans, 'x/custom', SpanKind.SERVER).attributes['error.type'], undefined);
    const refused = only(spans, 'prompts/list', SpanKind.CLIENT);
    assert.equal(refused.attributes['error.type'], 'CAPABILITY_NOT_SUPPORTED');
    assert.equal(refused.status.code, SpanStatusCode.ERROR);
    assert.equal(spans.filter((s) => s.name === 'prompts/list' && s.kind === SpanKind.SERVER).length, 0, 'nothing was sent');
  });

  test('SdkError CONNECTION_CLOSED: connection_closed on both sides, as on 1.x', async () => {
    otel.reset();
    const pending = client.callTool({ name: 'hang', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await server.close();
    await assert.rejects(pending, (e: any) => e.code === 'CONNECTION_CLOSED');
    await new Promise((resolve) => setImmediate(resolve));
    const spans = otel.spans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(spans, 'tools/call hang', kind);
      assert.equal(span.attributes['error.type'], 'connection_closed', SpanKind[kind]);
      assert.equal(span.status.code, SpanStatusCode.ERROR, SpanKind[kind]);
    }
  });
});

/** The attributes every SERVER span of a Streamable HTTP request on loopback has, as on 1.x. */
function assertHttpPeer(span: FinishedSpan, clientPorts: Set<number>, serverPort: number): void {
  const a = span.attributes;
  assert.equal(a['network.transport'], 'tcp', span.name);
  assert.equal(a['network.protocol.name'], 'http', span.name);
  assert.equal(a['network.protocol.version'], '1.1', span.name);
  assert.equal(a['client.address'], '127.0.0.1', span.name);
  assert.ok(clientPorts.has(a['client.port'] as number), `${span.name}: client.port ${String(a['client.port'])} is a peer port`);
  assert.notEqual(a['client.port'], serverPort, span.name);
}

/**
 * What the SERVER span `s` of an `echo` call over loopback Streamable HTTP carries (its CLIENT span
 * `c`), and `extra`: the protocol version, and the session and client identity where there are some.
 */
function httpEchoAttributes(c: FinishedSpan, s: FinishedSpan, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': 'echo',
    'gen_ai.operation.name': 'execute_tool',
    'jsonrpc.request.id': c.attributes['jsonrpc.request.id'],
    'network.transport': 'tcp',
    'network.protocol.name': 'http',
    'network.protocol.version': '1.1',
    'client.address': '127.0.0.1',
    'client.port': s.attributes['client.port'],
    ...extra,
  };
}

/**
 * One `echo` call of `client` over Streamable HTTP to createMcpHandler behind toNodeHandler on loopback
 * (a fresh `serverName` server per request), everything closed after. Checks the hop and the HTTP peer
 * of the SERVER span; returns both spans and the toNodeHandler handler.
 */
async function echoThroughNodeHandler(serverName: string, client: any, text: string): Promise<{ c: FinishedSpan; s: FinishedSpan; nodeHandler: any }> {
  const handler = v2Server.createMcpHandler(() => makeV2Server(serverName));
  const clientPorts = new Set<number>();
  const nodeHandler = v2Node.toNodeHandler(handler);
  const httpServer = http.createServer((req, res) => {
    clientPorts.add(req.socket.remotePort!);
    void nodeHandler(req, res);
  });
  const port = await listen(httpServer);
  try {
    await client.connect(new v2Client.StreamableHTTPClientTransport(mcpUrl(port)));
    otel.reset();
    await client.callTool({ name: 'echo', arguments: { text } });
    const spans = otel.spans();
    const c = only(spans, 'tools/call echo', SpanKind.CLIENT);
    const s = only(spans, 'tools/call echo', SpanKind.SERVER);
    assertHop(c, s);
    assertHttpPeer(s, clientPorts, port);
    return { c, s, nodeHandler };
  } finally {
    await client.close();
    await handler.close();
    await closeServer(httpServer);
  }
}

describe('v2 over Streamable HTTP with @modelcontextprotocol/node', { skip: NO_V2_NODE }, () => {
  test('NodeStreamableHTTPServerTransport (stateful): the HTTP peer on SERVER spans, and the audit actor from req.auth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-v2-http-audit-'));
    const audit = new AuditSpanProcessor({ directory: join(dir, 'audit') });
    const exporter = new sdkTrace.InMemorySpanExporter();
    instrumentation.setTracerProvider(
      new sdkTrace.TracerProvider({ spanProcessors: [new sdkTrace.SimpleSpanProcessor({ exporter }), audit] as never }),
    );
    const sessions = new Map<string, any>();
    const clientPorts = new Set<number>();
    const httpServer = http.createServer((req, res) => {
      clientPorts.add(req.socket.remotePort!);
      (req as any).auth = { token: 'secret-token', clientId: 'cid-1', scopes: ['tools'], extra: { sub: 'alice' } };
      const sessionId = req.headers['mcp-session-id'];
      (async () => {
        let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
        if (transport === undefined) {
          const created = new v2Node.NodeStreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id: string) => sessions.set(id, created),
          });
          await makeV2Server('v2-http').connect(created);
          transport = created;
        }
        await transport.handleRequest(req, res);
      })().catch((error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    const url = mcpUrl(await listen(httpServer));
    const client = new v2Client.Client({ name: 'v2-http-client', version: '2.0.0' });
    try {
      await client.connect(new v2Client.StreamableHTTPClientTransport(url));
      await client.callTool({ name: 'echo', arguments: { text: 'over http' } });
      const sessionId = client.transport.sessionId as string;
      await client.close();
      await audit.shutdown();

      const spans = exporter.getFinishedSpans();
      const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
      assert.deepEqual(servers.map((s) => s.name).sort(), ['initialize', 'notifications/initialized', 'tools/call echo']);
      for (const span of servers) assertHttpPeer(span, clientPorts, Number(url.port));
      const c = only(spans, 'tools/call echo', SpanKind.CLIENT);
      const s = only(spans, 'tools/call echo', SpanKind.SERVER);
      assertHop(c, s);
      assert.deepEqual(
        s.attributes,
        httpEchoAttributes(c, s, {
          'mcp.protocol.version': c.attributes['mcp.protocol.version'],
          'mcp.session.id': sessionId,
          'mcp.client.name': 'v2-http-client',
          'mcp.client.version': '2.0.0',
        }),
      );

      const records = readdirSync(join(dir, 'audit'))
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(dir, 'audit', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)))
        .filter((r) => r.type === 'op' && r.method === 'tools/call');
      assert.equal(records.length, 1);
      assert.deepEqual(records[0].actor, {
        session: sessionId,
        client: { name: 'v2-http-client', version: '2.0.0' },
        clientId: 'cid-1',
        scopes: ['tools'],
        subject: 'alice',
        address: '127.0.0.1',
      });
      assert.doesNotMatch(JSON.stringify(records), /secret-token/);
    } finally {
      instrumentation.setTracerProvider(otel.tracerProvider);
      await closeServer(httpServer);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('createMcpHandler behind toNodeHandler: a stateless legacy exchange has the peer and the protocol version of its request header', async () => {
    const client = new v2Client.Client({ name: 'v2-stateless-client', version: '2.0.0' });
    const { c, s, nodeHandler } = await echoThroughNodeHandler('v2-stateless', client, 'stateless');
    assert.equal(nodeHandler.length, 3, 'the handler keeps its arity');
    assert.match(String(c.attributes['mcp.protocol.version']), /^\d{4}-\d{2}-\d{2}$/);
    // A fresh server per request, never initialized: no session, no client identity.
    assert.deepEqual(s.attributes, httpEchoAttributes(c, s, { 'mcp.protocol.version': c.attributes['mcp.protocol.version'] }));
  });

  test('createMcpHandler, modern era (2026-07-28): version and client identity from the request, the peer from toNodeHandler', async () => {
    const client = new v2Client.Client({ name: 'v2-modern-client', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const { c, s } = await echoThroughNodeHandler('v2-modern', client, 'modern');
    assert.equal(c.attributes['mcp.protocol.version'], '2026-07-28');
    assert.deepEqual(
      s.attributes,
      httpEchoAttributes(c, s, { 'mcp.protocol.version': '2026-07-28', 'mcp.client.name': 'v2-modern-client', 'mcp.client.version': '2.0.0' }),
    );
  });

  test('imported as ES modules under the loader hook: the peer on SERVER spans of both entries', () => {
    // Unless the repository has the package, a copy runs next to the install that has it.
    const inRepo = existsSync(join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'node', 'package.json')) && V2_ROOT === REPO_ROOT;
    const calls = runEsmApp('v2-node-esm-app.mjs', inRepo).filter((s: any) => s.name === 'tools/call echo' && s.kind === SpanKind.SERVER);
    assert.equal(calls.length, 2, 'one call through each entry');
    for (const span of calls) {
      assert.equal(span.attributes['client.address'], '127.0.0.1');
      assert.equal(typeof span.attributes['client.port'], 'number');
      assert.equal(span.attributes['network.protocol.version'], '1.1');
      assert.match(String(span.attributes['mcp.protocol.version']), /^\d{4}-\d{2}-\d{2}$/);
    }
  });

  test('disable() restores the transport send and toNodeHandler; enable() patches them again', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isWrapped } = require('@opentelemetry/instrumentation');
    const send = v2Server.InMemoryTransport.prototype;
    const nodeTransport = v2Node.NodeStreamableHTTPServerTransport.prototype;
    assert.equal(isWrapped(send.send), true, 'watched since the first v2 request in memory');
    assert.equal(isWrapped(v2Node.toNodeHandler), true);
    assert.equal(isWrapped(nodeTransport.handleRequest), true);
    instrumentation.disable();
    try {
      assert.equal(isWrapped(send.send), false);
      assert.equal(isWrapped(v2Node.toNodeHandler), false);
      assert.equal(isWrapped(nodeTransport.handleRequest), false);
    } finally {
      instrumentation.enable();
    }
    assert.equal(isWrapped(v2Node.toNodeHandler), true);
    assert.equal(isWrapped(nodeTransport.handleRequest), true);
    assert.equal(isWrapped(v2Node.toNodeHandler.__original), false, 'wrapped once');
  });
});
