/*
 * Streamable HTTP on a real loopback server: one McpServer + StreamableHTTPServerTransport per session
 * (stateful mode, as the SDK's README shows), a StreamableHTTPClientTransport client in this process,
 * and @opentelemetry/instrumentation-http tracing the HTTP layer around them.
 *
 * Order matters: the OpenTelemetry SDK, HttpInstrumentation and McpInstrumentation exist before the MCP
 * SDK and `node:http` are required here, so that both get patched as they load.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type * as NodeHttp from 'node:http';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { McpInstrumentation } from '../src';
import type { McpRequestHookInfo } from '../src';
import { only, parentSpanIdOf, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';
import { fixture } from './helpers/sdk';
import { mcpSdk } from './helpers/mcp';
import { closeServer, listen, mcpUrl, readBody } from './helpers/net';

const otel = setupOtel();

/** Every span McpInstrumentation started (its request hook runs right after each start). */
const started: Array<{ span: Span; info: McpRequestHookInfo }> = [];
new HttpInstrumentation();
new McpInstrumentation({ requestHook: (span, info) => started.push({ span, info }) });

// Required only now, so that instrumentation-http's hook sees it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = require('node:http') as typeof NodeHttp;

const MCP_SCOPE = 'opentelemetry-instrumentation-mcp';
const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const WAIT_MS = 10_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

// The generation under test: v1's StreamableHTTPServerTransport, or v2's NodeStreamableHTTPServerTransport
// of @modelcontextprotocol/node (the file skips when that package is not installed).
const sdk = mcpSdk();
const { StreamableHTTPServerTransport, Client, StreamableHTTPClientTransport } = sdk;
const NO_HTTP_SERVER = StreamableHTTPServerTransport === undefined && '@modelcontextprotocol/node is not installed next to the v2 packages';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require(fixture('scenario.cjs'));

function scopeOf(span: FinishedSpan): string {
  return span.instrumentationScope.name;
}

function mcpSpans(): FinishedSpan[] {
  return otel.spans().filter((s) => scopeOf(s) === MCP_SCOPE);
}

function httpSpans(kind: SpanKind): FinishedSpan[] {
  return otel.spans().filter((s) => scopeOf(s) === HTTP_SCOPE && s.kind === kind);
}

/** `KIND name` of each span, sorted: the exact set a scenario must produce. */
function summary(spans: FinishedSpan[]): string[] {
  return spans.map((s) => `${SpanKind[s.kind]} ${s.name}`).sort();
}

/** The summary of a session that called `tool` once: initialize, initialized and the call, on both sides. */
function sessionSummary(tool: string): string[] {
  return ['CLIENT', 'SERVER'].flatMap((kind) => [`${kind} initialize`, `${kind} notifications/initialized`, `${kind} tools/call ${tool}`]);
}

/** The first attribute present among `keys` (instrumentation-http emits old or stable HTTP semconv). */
function attr(span: FinishedSpan, ...keys: string[]): unknown {
  for (const key of keys) if (span.attributes[key] !== undefined) return span.attributes[key];
  return undefined;
}

const httpMethod = (s: FinishedSpan): unknown => attr(s, 'http.request.method', 'http.method');
const httpTarget = (s: FinishedSpan): unknown => attr(s, 'url.path', 'http.target');
const httpHostPort = (s: FinishedSpan): unknown => attr(s, 'server.port', 'net.host.port');
const httpPeerAddress = (s: FinishedSpan): unknown => attr(s, 'network.peer.address', 'net.peer.ip');
const httpPeerPort = (s: FinishedSpan): unknown => attr(s, 'network.peer.port', 'net.peer.port');

function spanId(span: { spanContext(): { spanId: string } }): string {
  return span.spanContext().spanId;
}

function traceId(span: { spanContext(): { traceId: string } }): string {
  return span.spanContext().traceId;
}

function text(result: Any): string {
  return result.content[0].text;
}

/** Waits until every span McpInstrumentation started has ended (nothing leaks), and returns them. */
async function allMcpSpansEnded(): Promise<FinishedSpan[]> {
  const ids = (): Set<string> => new Set(mcpSpans().map(spanId));
  await waitFor(() => started.every((s) => ids().has(spanId(s.span))), WAIT_MS, 'every started MCP span to end');
  const spans = mcpSpans();
  assert.deepEqual(new Set(spans.map(spanId)), new Set(started.map((s) => spanId(s.span))), 'finished MCP spans = started MCP spans');
  return spans;
}

interface Session {
  transport: Any;
  mcp: Any;
  /** Resolves every `hold` call in flight on this session. */
  release(): void;
}

interface McpHttpServer {
  port: number;
  url: URL;
  sessions: Map<string, Session>;
  close(): Promise<void>;
}

/**
 * The scenario server plus `hold`: a tool that stays in flight until the test releases it or its
 * request is aborted (no timer keeps the process alive whatever the SDK does on close).
 */
function createSessionServer(): { mcp: Any; release(): void } {
  const mcp = scenario.createScenarioServer(sdk, { name: 'http-server' });
  const waiting = new Set<() => void>();
  sdk.tool(mcp, 'hold', 'Waits until released', {}, async (_args: unknown, extra) => {
    await new Promise<void>((resolve) => {
      waiting.add(resolve);
      extra.signal?.addEventListener('abort', () => resolve());
    });
    return { content: [{ type: 'text', text: 'released' }] };
  });
  return {
    mcp,
    release: () => {
      for (const resolve of waiting) resolve();
      waiting.clear();
    },
  };
}

async function startMcpServer(): Promise<McpHttpServer> {
  const sessions = new Map<string, Session>();
  const all: Session[] = [];
  const handle = async (req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse): Promise<void> => {
    if (req.url !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const body = req.method === 'POST' ? JSON.parse(await readBody(req)) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (session === undefined) {
      if (sessionId !== undefined || req.method !== 'POST' || !sdk.isInitializeRequest(body)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no valid session' }, id: null }));
        return;
      }
      const { mcp, release } = createSessionServer();
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id: string) => sessions.set(id, created),
      });
      const created: Session = { transport, mcp, release };
      all.push(created);
      mcp.server.onclose = () => {
        if (typeof transport.sessionId === 'string') sessions.delete(transport.sessionId);
      };
      await mcp.connect(transport);
      session = created;
    }
    await session.transport.handleRequest(req, res, body);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  const port = await listen(server);
  return {
    port,
    url: mcpUrl(port),
    sessions,
    async close() {
      for (const session of all) {
        session.release();
        await session.mcp.close();
      }
      await closeServer(server);
    },
  };
}

interface Connected {
  client: Any;
  transport: Any;
  sessionId: string;
}

async function connect(url: URL): Promise<Connected> {
  const client = scenario.configureScenarioClient(new Client(scenario.CLIENT_INFO, scenario.clientCapabilities(sdk)), sdk);
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  const sessionId = transport.sessionId;
  assert.equal(typeof sessionId, 'string');
  return { client, transport, sessionId };
}

/**
 * SDK 1.10 leaves a request's 60 s timeout timer armed when the connection closes (newer SDKs clear
 * it), which would keep this file alive for a minute. Aborting the call's signal after the close
 * clears it; the call and its span have already ended by then, so this changes nothing observed.
 */
let releaseTimer = new AbortController();

/** Calls `hold`; resolves its outcome, result or error, once the call settles. */
function callHold(client: Any): Promise<{ result?: Any; error?: Any }> {
  return sdk.callTool(client, { name: 'hold', arguments: {} }, { signal: releaseTimer.signal }).then(
    (result: Any) => ({ result }),
    (error: Any) => ({ error }),
  );
}

/** Waits until the instrumentation started the SERVER span of `tools/call` for `tool`, and returns it. */
async function serverSpanStarted(tool: string): Promise<Span> {
  const find = (): Span | undefined =>
    started.find((s) => s.info.direction === 'incoming' && s.info.method === 'tools/call' && (s.info.params as Any)?.name === tool)?.span;
  await waitFor(() => find() !== undefined, WAIT_MS, `the SERVER span of tools/call ${tool}`);
  return find()!;
}

/** The HTTP SERVER span (instrumentation-http) an MCP SERVER span links to. */
function linkedHttpServerSpan(mcpServerSpan: FinishedSpan): FinishedSpan {
  assert.equal(mcpServerSpan.links.length, 1, `${mcpServerSpan.name}: one link`);
  const link = mcpServerSpan.links[0]!;
  const found = httpSpans(SpanKind.SERVER).filter((s) => spanId(s) === link.context.spanId);
  assert.equal(found.length, 1, `${mcpServerSpan.name}: the linked span is a finished HTTP SERVER span`);
  assert.equal(traceId(found[0]!), link.context.traceId);
  return found[0]!;
}

describe('Streamable HTTP', { skip: NO_HTTP_SERVER }, () => {
  let mcpServer: McpHttpServer;
  let backend: NodeHttp.Server;
  let backendPort: number;
  const clients: Connected[] = [];

  before(async () => {
    mcpServer = await startMcpServer();
    backend = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pong');
    });
    backendPort = await listen(backend);
  });

  after(async () => {
    releaseTimer.abort();
    for (const { client } of clients) await client.close().catch(() => undefined);
    await mcpServer.close();
    await closeServer(backend);
  });

  function reset(): void {
    otel.reset();
    started.length = 0;
    releaseTimer.abort();
    releaseTimer = new AbortController();
  }

  async function newClient(): Promise<Connected> {
    const connected = await connect(mcpServer.url);
    clients.push(connected);
    return connected;
  }

  test('CLIENT and SERVER spans carry the network peer, protocol and session attributes', async () => {
    reset();
    const { client, sessionId } = await newClient();
    const result = await client.callTool({ name: 'echo', arguments: { text: 'over http' } });
    assert.equal(text(result), 'over http');
    await client.close();

    const spans = await allMcpSpansEnded();
    assert.deepEqual(summary(spans), sessionSummary('echo'));
    assert.equal(mcpServer.sessions.get(sessionId)?.transport.sessionId, sessionId, 'the server transport has the same session');

    for (const span of spans.filter((s) => s.kind === SpanKind.CLIENT)) {
      const a = span.attributes;
      assert.equal(a['server.address'], '127.0.0.1', span.name);
      assert.equal(a['server.port'], mcpServer.port, span.name);
      assert.equal(a['network.transport'], 'tcp', span.name);
      assert.equal(a['network.protocol.name'], 'http', span.name);
      assert.equal(a['client.address'], undefined, span.name);
      // initialize is sent before the server assigns the session; its span records the id it got.
      assert.equal(a['mcp.session.id'], sessionId, span.name);
    }

    const serverSpans = spans.filter((s) => s.kind === SpanKind.SERVER);
    for (const span of serverSpans) {
      const a = span.attributes;
      // The peer of the HTTP request this message arrived on, as instrumentation-http saw it.
      const request = linkedHttpServerSpan(span);
      assert.equal(httpMethod(request), 'POST', span.name);
      assert.equal(httpTarget(request), '/mcp', span.name);
      assert.equal(httpHostPort(request), mcpServer.port, span.name);
      assert.equal(a['client.address'], '127.0.0.1', span.name);
      assert.equal(a['client.address'], httpPeerAddress(request), span.name);
      assert.equal(typeof a['client.port'], 'number', span.name);
      assert.equal(a['client.port'], httpPeerPort(request), span.name);
      assert.ok((a['client.port'] as number) > 0 && a['client.port'] !== mcpServer.port, `${span.name}: ${String(a['client.port'])}`);
      assert.equal(a['network.protocol.version'], '1.1', span.name);
      assert.equal(a['network.transport'], 'tcp', span.name);
      assert.equal(a['network.protocol.name'], 'http', span.name);
      assert.equal(a['mcp.session.id'], sessionId, span.name);
      assert.equal(a['server.address'], undefined, span.name);
    }

    // Each SERVER span is the child of the CLIENT span of the same message (trace context in _meta).
    for (const name of ['initialize', 'notifications/initialized', 'tools/call echo']) {
      const clientSpan = only(spans, name, SpanKind.CLIENT);
      const serverSpan = only(spans, name, SpanKind.SERVER);
      assert.equal(parentSpanIdOf(serverSpan), spanId(clientSpan), name);
      assert.equal(traceId(serverSpan), traceId(clientSpan), name);
    }
    const clientCall = only(spans, 'tools/call echo', SpanKind.CLIENT);
    const serverCall = only(spans, 'tools/call echo', SpanKind.SERVER);
    assert.equal(typeof serverCall.attributes['mcp.protocol.version'], 'string');
    assert.equal(clientCall.attributes['mcp.protocol.version'], serverCall.attributes['mcp.protocol.version']);
    assert.equal(clientCall.attributes['jsonrpc.request.id'], serverCall.attributes['jsonrpc.request.id']);
  });

  test('sessions described alike share span templates; each span still has its own session id and its own peer', async () => {
    reset();
    // Two clients named alike and one named otherwise, calls interleaved across the three sessions.
    const named = async (name: string): Promise<Connected> => {
      const client = scenario.configureScenarioClient(new Client({ ...scenario.CLIENT_INFO, name }, scenario.clientCapabilities(sdk)), sdk);
      const transport = new StreamableHTTPClientTransport(mcpServer.url);
      await client.connect(transport);
      const connected = { client, transport, sessionId: transport.sessionId as string };
      clients.push(connected);
      return connected;
    };
    const peers = [await named('alike'), await named('alike'), await named('other')];
    for (let round = 0; round < 2; round++) {
      await Promise.all(peers.map((p, i) => p.client.callTool({ name: 'echo', arguments: { text: `${round}-${i}` } })));
    }
    for (const p of peers) await p.client.close();
    const spans = (await allMcpSpansEnded()).filter((s) => s.name === 'tools/call echo');
    assert.equal(spans.length, 12);
    for (const [i, p] of peers.entries()) {
      const mine = spans.filter((s) => s.attributes['mcp.session.id'] === p.sessionId);
      assert.deepEqual(mine.map((s) => s.kind).sort(), [SpanKind.CLIENT, SpanKind.CLIENT, SpanKind.SERVER, SpanKind.SERVER].sort(), `session ${i}`);
      for (const span of mine.filter((s) => s.kind === SpanKind.SERVER)) assert.equal(span.attributes['mcp.client.name'], i < 2 ? 'alike' : 'other');
    }
    assert.equal(new Set(peers.map((p) => p.sessionId)).size, 3);
  });

  test('one trace: app span → MCP CLIENT → MCP SERVER → the tool’s HTTP CLIENT → the backend’s HTTP SERVER', async () => {
    reset();
    const { client } = await newClient();
    const url = `http://127.0.0.1:${backendPort}/data`;
    const tracer = trace.getTracer('http-test');
    const result = await tracer.startActiveSpan('app-operation', async (span) => {
      try {
        return await client.callTool({ name: 'fetch', arguments: { url } });
      } finally {
        span.end();
      }
    });
    assert.equal(text(result), 'pong');
    await client.close();
    await allMcpSpansEnded();

    const spans = otel.spans();
    const app = only(spans, 'app-operation', SpanKind.INTERNAL);
    const clientCallSpan = only(spans, 'tools/call fetch', SpanKind.CLIENT);
    const serverCallSpan = only(spans, 'tools/call fetch', SpanKind.SERVER);
    assert.equal(parentSpanIdOf(app), undefined, 'app-operation is the root');
    assert.equal(parentSpanIdOf(clientCallSpan), spanId(app));
    assert.equal(parentSpanIdOf(serverCallSpan), spanId(clientCallSpan));

    const toolRequests = httpSpans(SpanKind.CLIENT).filter((s) => parentSpanIdOf(s) === spanId(serverCallSpan));
    assert.equal(toolRequests.length, 1, 'one HTTP CLIENT span under the MCP SERVER span');
    const toolRequest = toolRequests[0]!;
    assert.equal(httpMethod(toolRequest), 'GET');
    assert.equal(attr(toolRequest, 'url.full', 'http.url'), url);

    const backendSpans = httpSpans(SpanKind.SERVER).filter((s) => parentSpanIdOf(s) === spanId(toolRequest));
    assert.equal(backendSpans.length, 1, 'one HTTP SERVER span under the tool’s HTTP CLIENT span');
    const backendSpan = backendSpans[0]!;
    assert.equal(httpMethod(backendSpan), 'GET');
    assert.equal(httpTarget(backendSpan), '/data');
    assert.equal(httpHostPort(backendSpan), backendPort);

    for (const span of [clientCallSpan, serverCallSpan, toolRequest, backendSpan]) {
      assert.equal(traceId(span), traceId(app), `${span.name} is in the app's trace`);
    }

    // The HTTP request that carried the MCP message is linked, not the parent.
    const post = linkedHttpServerSpan(serverCallSpan);
    assert.equal(httpMethod(post), 'POST');
    assert.equal(httpTarget(post), '/mcp');
    assert.equal(httpHostPort(post), mcpServer.port);
    assert.notEqual(parentSpanIdOf(serverCallSpan), spanId(post));
    assert.notEqual(spanId(post), spanId(clientCallSpan));
  });

  test('a tool error (isError result) fails both spans with error.type tool_error', async () => {
    reset();
    const { client } = await newClient();
    const soft = await client.callTool({ name: 'soft-fail', arguments: {} });
    assert.equal(soft.isError, true);
    assert.equal(text(soft), 'soft failure');
    const thrown = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(thrown.isError, true);
    await client.close();
    const spans = await allMcpSpansEnded();

    for (const name of ['tools/call soft-fail', 'tools/call fail']) {
      for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
        const span = only(spans, name, kind);
        assert.equal(span.attributes['error.type'], 'tool_error', `${SpanKind[kind]} ${name}`);
        assert.equal(span.status.code, SpanStatusCode.ERROR, `${SpanKind[kind]} ${name}`);
        assert.equal(span.attributes['rpc.response.status_code'], undefined, `${SpanKind[kind]} ${name}`);
        assert.equal(span.attributes['gen_ai.operation.name'], 'execute_tool');
      }
    }
  });

  test('an unknown tool: the SDK’s answer (tool error or -32602) is what both spans report', async () => {
    reset();
    const { client } = await newClient();
    let outcome: { result?: Any; error?: Any };
    try {
      outcome = { result: await client.callTool({ name: 'no-such-tool', arguments: {} }) };
    } catch (error) {
      outcome = { error };
    }
    await client.close();
    const spans = await allMcpSpansEnded();
    const clientSpan = only(spans, 'tools/call no-such-tool', SpanKind.CLIENT);
    const serverSpan = only(spans, 'tools/call no-such-tool', SpanKind.SERVER);
    assert.equal(serverSpan.attributes['gen_ai.tool.name'], 'no-such-tool');

    if (sdk.expect.unknownToolRejects) assert.notEqual(outcome.error, undefined, 'this generation rejects an unknown tool');
    if (outcome.error === undefined) {
      // Newer 1.x SDKs: McpServer answers an unknown tool with a CallToolResult { isError: true }.
      assert.equal(outcome.result.isError, true);
      for (const span of [clientSpan, serverSpan]) {
        assert.equal(span.attributes['error.type'], 'tool_error', `${SpanKind[span.kind]}`);
        assert.equal(span.status.code, SpanStatusCode.ERROR, `${SpanKind[span.kind]}`);
        assert.equal(span.attributes['rpc.response.status_code'], undefined);
      }
    } else {
      // Older 1.x SDKs and v2: a JSON-RPC error -32602 (Invalid params): the caller's fault, so the SERVER span is not an error.
      assert.equal(outcome.error.code, -32602);
      assert.equal(clientSpan.attributes['error.type'], '-32602');
      assert.equal(clientSpan.attributes['rpc.response.status_code'], '-32602');
      assert.equal(clientSpan.status.code, SpanStatusCode.ERROR);
      assert.equal(outcome.error.message, sdk.expect.clientErrorMessage(-32602, clientSpan.status.message!));
      assert.equal(serverSpan.attributes['error.type'], '-32602');
      assert.equal(serverSpan.attributes['rpc.response.status_code'], '-32602');
      assert.equal(serverSpan.status.code, SpanStatusCode.UNSET);
    }
  });

  test('an unknown method: -32601 fails the CLIENT span only', async () => {
    reset();
    const { client, sessionId } = await newClient();
    await assert.rejects(sdk.request(client, 'test/unknown'), (error: Any) => {
      assert.equal(error.code, -32601);
      return true;
    });
    await client.close();
    const spans = await allMcpSpansEnded();
    const clientSpan = only(spans, 'test/unknown', SpanKind.CLIENT);
    const serverSpan = only(spans, 'test/unknown', SpanKind.SERVER);
    assert.equal(clientSpan.attributes['error.type'], '-32601');
    assert.equal(clientSpan.attributes['rpc.response.status_code'], '-32601');
    assert.equal(clientSpan.status.code, SpanStatusCode.ERROR);
    assert.equal(clientSpan.status.message, 'Method not found');
    assert.equal(serverSpan.attributes['error.type'], '-32601');
    assert.equal(serverSpan.attributes['rpc.response.status_code'], '-32601');
    assert.equal(serverSpan.status.code, SpanStatusCode.UNSET);
    assert.equal(parentSpanIdOf(serverSpan), spanId(clientSpan));
    assert.equal(serverSpan.attributes['mcp.session.id'], sessionId);
    assert.equal(serverSpan.attributes['client.address'], '127.0.0.1');
  });

  test('session terminated with a call in flight: both spans end with connection_closed', async () => {
    reset();
    const { client, transport, sessionId } = await newClient();
    const pending = callHold(client);
    await serverSpanStarted('hold');
    // DELETE /mcp: the server closes the session, then the client closes its transport.
    await transport.terminateSession();
    await waitFor(() => !mcpServer.sessions.has(sessionId), WAIT_MS, 'the server session to close');
    await client.close();
    const { error } = await pending;
    assert.equal(error?.code, sdk.expect.connectionClosedCode, 'the pending call is rejected: connection closed');

    const spans = await allMcpSpansEnded();
    assert.deepEqual(summary(spans), sessionSummary('hold'));
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(spans, 'tools/call hold', kind);
      assert.equal(span.attributes['error.type'], 'connection_closed', SpanKind[kind]);
      assert.equal(span.status.code, SpanStatusCode.ERROR, SpanKind[kind]);
    }
    // The CLIENT span reports the rejection the caller saw; the SERVER span the closed connection.
    assert.equal(only(spans, 'tools/call hold', SpanKind.CLIENT).status.message, error.message);
    assert.equal(only(spans, 'tools/call hold', SpanKind.SERVER).status.message, 'Connection closed');
  });

  test('client.close() with a call in flight: the CLIENT span ends now, the SERVER span when the server session closes', async () => {
    reset();
    const { client, sessionId } = await newClient();
    const pending = callHold(client);
    const serverSpan = await serverSpanStarted('hold');
    await client.close();
    const { error } = await pending;
    assert.equal(error?.code, sdk.expect.connectionClosedCode, 'the pending call is rejected: connection closed');
    await waitFor(() => mcpSpans().some((s) => s.name === 'tools/call hold'), WAIT_MS, 'the CLIENT span of hold');
    const clientSpan = only(mcpSpans(), 'tools/call hold', SpanKind.CLIENT);
    assert.equal(clientSpan.attributes['error.type'], 'connection_closed');
    assert.equal(clientSpan.status.code, SpanStatusCode.ERROR);

    // The server saw the POST's connection go away (instrumentation-http ended its span)...
    const link = (serverSpan as unknown as FinishedSpan).links[0]!.context.spanId;
    await waitFor(() => httpSpans(SpanKind.SERVER).some((s) => spanId(s) === link), WAIT_MS, 'the HTTP SERVER span of the POST to end');
    // ...but a disconnection is not a cancellation (MCP Streamable HTTP spec): the handler runs on.
    assert.equal(
      mcpSpans().some((s) => spanId(s) === spanId(serverSpan)),
      false,
      'the SERVER span is still in flight while its session is open',
    );
    assert.equal(mcpServer.sessions.has(sessionId), true);

    // The server closes the session (shutdown, idle expiry…): the in-flight operation ends with it.
    await mcpServer.sessions.get(sessionId)!.mcp.close();
    const spans = await allMcpSpansEnded();
    assert.deepEqual(summary(spans), sessionSummary('hold'));
    const ended = only(spans, 'tools/call hold', SpanKind.SERVER);
    assert.equal(ended.attributes['error.type'], 'connection_closed');
    assert.equal(ended.status.code, SpanStatusCode.ERROR);
    assert.equal(parentSpanIdOf(ended), spanId(clientSpan));
  });
});
