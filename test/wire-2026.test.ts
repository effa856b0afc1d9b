/*
 * The 2026-07-28 wire served statelessly by v2's `createMcpHandler`, through `handler.fetch` and behind
 * `toNodeHandler` on a loopback server: refusals before dispatch, removed methods, `subscriptions/listen`
 * and the notifications of its stream, `recordUser`, `continuedTrace`; and every response the same as
 * the bare server's apart from trace keys in `_meta`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { McpInstrumentation, summarizeMcpSpan } from '../src';
import { mcpGeneration } from './helpers/mcp';
import { closeServer, listen, mcpUrl } from './helpers/net';
import { only, parentSpanIdOf, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();

/* eslint-disable @typescript-eslint/no-explicit-any */
const v2 = mcpGeneration(2);
const v2Server = v2.modules!.server;
const v2Node = v2.modules!.node;
const z4 = v2.z;
const V = '2026-07-28';
const REMOTE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN = 'b7ad6b7169203331';
const AUTH = { token: 'secret-token', clientId: 'cid-1', scopes: ['tools'], extra: { sub: 'alice' } };

function makeServer(): any {
  const server = new v2Server.McpServer({ name: 'wire-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('echo', { description: 'echo', inputSchema: z4.object({ text: z4.string() }) }, async ({ text }: { text: string }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': V,
    'io.modelcontextprotocol/clientInfo': { name: 'wire-client', version: '3.1.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
    ...extra,
  };
}

interface Exchange {
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

const traceparent = `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01`;
const EXCHANGES: Exchange[] = [
  { name: 'served, with trace context', body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope({ traceparent }) } } },
  { name: 'served, without trace context', body: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope() } } },
  { name: 'header mismatch', body: { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope({ traceparent }) } }, headers: { 'mcp-method': 'prompts/list' } },
  {
    name: 'unsupported version',
    body: { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: envelope({ 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }) } },
    headers: { 'mcp-protocol-version': '2099-01-01' },
  },
  { name: 'missing envelope', body: { jsonrpc: '2.0', id: 5, method: 'tools/list', params: {} } },
  { name: 'removed initialize', body: { jsonrpc: '2.0', id: 6, method: 'initialize', params: { protocolVersion: V, capabilities: {}, clientInfo: { name: 'x', version: '1' }, _meta: envelope() } } },
  { name: 'not JSON-RPC', body: { hello: 'world' } },
];

function headersOf(exchange: Exchange): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': V,
    ...(typeof exchange.body.method === 'string' ? { 'mcp-method': exchange.body.method } : {}),
    ...exchange.headers,
  };
}

function requestOf(exchange: Exchange, url = 'http://localhost/mcp'): Request {
  return new Request(url, { method: 'POST', headers: headersOf(exchange), body: JSON.stringify(exchange.body) });
}

/** Status and body of each exchange, against a handler made while the instrumentation is as it is. */
async function runAll(send: (exchange: Exchange) => Promise<{ status: number; text: string }>): Promise<string[]> {
  const out: string[] = [];
  for (const exchange of EXCHANGES) {
    const { status, text } = await send(exchange);
    out.push(`${exchange.name}: ${status} ${text}`);
  }
  return out;
}

/**
 * `run` against a `createMcpHandler` of the bare SDK (the instrumentation disabled), then against an
 * instrumented one (spans reset in between); each handler is closed after its run.
 */
async function bareThenTraced<T>(run: (handler: any) => Promise<T>, options?: Record<string, unknown>): Promise<{ bare: T; traced: T }> {
  instrumentation.disable();
  const bareHandler = v2Server.createMcpHandler(makeServer, options);
  const bare = await run(bareHandler);
  await bareHandler.close();
  instrumentation.enable();
  otel.reset();
  const handler = v2Server.createMcpHandler(makeServer, options);
  const traced = await run(handler);
  await handler.close();
  return { bare, traced };
}

function serverSpans(): FinishedSpan[] {
  return otel.spans().filter((s) => s.kind === SpanKind.SERVER);
}

const REFUSED_BASE = { 'network.transport': 'tcp', 'network.protocol.name': 'http' };

describe('2026-07-28 through handler.fetch', () => {
  test('a POST body is read once and handed to the SDK parsed: nothing cloned; bodies it would read otherwise get the bare answers', async () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope() } };
    const json = JSON.stringify(call);
    const failing = (): ReadableStream<Uint8Array> =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(json.slice(0, 10)));
          controller.error(new Error('the client went away'));
        },
      });
    const cases: Array<{ name: string; body: () => string | ReadableStream<Uint8Array>; type?: string }> = [
      { name: 'JSON', body: () => json },
      { name: 'JSON, charset', body: () => json, type: 'application/json; charset=utf-8' },
      { name: 'not JSON', body: () => '{"jsonrpc":"2.0",' },
      { name: 'empty', body: () => '' },
      { name: 'over maxRequestBodySize', body: () => JSON.stringify({ ...call, params: { ...call.params, pad: 'x'.repeat(400) } }) },
      { name: 'a stream that fails', body: failing },
      { name: 'not a JSON content type', body: () => json, type: 'text/plain' },
    ];
    const send = async (handler: any): Promise<{ answers: string[]; clones: number }> => {
      const prototype = Request.prototype as { clone(this: Request): Request };
      const clone = prototype.clone;
      let clones = 0;
      prototype.clone = function (this: Request) {
        clones++;
        return clone.call(this);
      };
      const answers: string[] = [];
      try {
        for (const c of cases) {
          const headers = { ...headersOf({ name: c.name, body: call }), 'content-type': c.type ?? 'application/json' };
          const request = new Request('http://localhost/mcp', { method: 'POST', headers, body: c.body(), duplex: 'half' } as RequestInit);
          const response = await handler.fetch(request);
          answers.push(`${c.name}: ${response.status} ${await response.text()}`);
          if (c.name === 'JSON') answers.push(`clones after JSON: ${clones}`);
        }
      } finally {
        prototype.clone = clone;
      }
      return { answers, clones };
    };
    const { bare, traced } = await bareThenTraced(send, { maxRequestBodySize: 300 });
    // The bare SDK clones each POST once itself; handed the body parsed, it clones nothing, and neither do we.
    assert.equal(bare.answers.find((a) => a.startsWith('clones')), 'clones after JSON: 1');
    assert.equal(traced.answers.find((a) => a.startsWith('clones')), 'clones after JSON: 0');
    assert.deepEqual(
      traced.answers.filter((a) => !a.startsWith('clones')),
      bare.answers.filter((a) => !a.startsWith('clones')),
    );
    // A SERVER span for each request served (which ones depends on the release: 2.0 has no body limit).
    const served = traced.answers.filter((a) => / 200 /.test(a)).length;
    assert.ok(served >= 2);
    assert.equal(serverSpans().filter((s) => s.name === 'tools/list' && s.attributes['error.type'] === undefined).length, served);
  });

  test('refusals before dispatch and removed methods get SERVER spans; the bodies are the bare server\'s', async () => {
    const { bare, traced } = await bareThenTraced((handler) =>
      runAll(async (e) => {
        const r = await handler.fetch(requestOf(e));
        return { status: r.status, text: await r.text() };
      }),
    );
    assert.deepEqual(traced, bare);

    const spans = serverSpans();
    assert.deepEqual(spans.map((s) => `${s.name} ${String(s.attributes['jsonrpc.request.id'])}`), [
      'tools/list 1',
      'tools/list 2',
      'tools/list 3',
      'tools/list 4',
      'tools/list 5',
      'initialize 6',
    ]);
    const byId = (id: string) => spans.find((s) => s.attributes['jsonrpc.request.id'] === id)!;
    const client = { 'mcp.client.name': 'wire-client', 'mcp.client.version': '3.1.0' };
    // Served: continues the caller's trace (remote parent), and the summary says so.
    assert.equal(byId('1').spanContext().traceId, REMOTE_TRACE);
    assert.equal(parentSpanIdOf(byId('1')), REMOTE_SPAN);
    assert.equal(summarizeMcpSpan(byId('1') as any)!.continuedTrace, true);
    assert.equal(summarizeMcpSpan(byId('2') as any)!.continuedTrace, false);
    assert.deepEqual(byId('3').attributes, {
      'mcp.method.name': 'tools/list', 'mcp.protocol.version': V, ...REFUSED_BASE, ...client,
      'jsonrpc.request.id': '3', 'error.type': '-32020', 'rpc.response.status_code': '-32020',
    });
    assert.equal(byId('3').status.code, SpanStatusCode.ERROR);
    assert.equal(parentSpanIdOf(byId('3')), REMOTE_SPAN, 'a refusal continues the caller trace too');
    assert.deepEqual(byId('4').attributes, {
      'mcp.method.name': 'tools/list', ...REFUSED_BASE, ...client,
      'jsonrpc.request.id': '4', 'mcp.protocol.version': '2099-01-01', 'error.type': '-32022', 'rpc.response.status_code': '-32022',
    });
    assert.equal(byId('4').status.message, 'Unsupported protocol version: 2099-01-01');
    assert.deepEqual(byId('5').attributes, {
      'mcp.method.name': 'tools/list', ...REFUSED_BASE, 'jsonrpc.request.id': '5', 'error.type': '-32602', 'rpc.response.status_code': '-32602',
    });
    assert.equal(byId('5').status.code, SpanStatusCode.UNSET);
    assert.deepEqual(byId('6').attributes, {
      'mcp.method.name': 'initialize', 'mcp.protocol.version': V, ...REFUSED_BASE, ...client,
      'jsonrpc.request.id': '6', 'error.type': '-32601', 'rpc.response.status_code': '-32601',
    });
  });

  test('recordUser: user.id is the verified subject on served and refused spans, never the token; off by default', async () => {
    for (const recordUser of [false, true]) {
      instrumentation.setConfig({ recordUser });
      otel.reset();
      const handler = v2Server.createMcpHandler(makeServer);
      try {
        for (const exchange of [EXCHANGES[1]!, EXCHANGES[4]!]) await (await handler.fetch(requestOf(exchange), { authInfo: AUTH })).text();
      } finally {
        await handler.close();
        instrumentation.setConfig({});
      }
      const spans = serverSpans();
      assert.equal(spans.length, 2);
      for (const span of spans) {
        assert.equal(span.attributes['user.id'], recordUser ? 'alice' : undefined, `${span.name} recordUser=${recordUser}`);
        assert.doesNotMatch(JSON.stringify(span.attributes), /secret-token/);
      }
    }
  });
});

/** The SSE frames' JSON messages, with the trace keys of `_meta` taken out (they are compared apart). */
function framesOf(text: string): any[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('event: message'))
    .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)));
}

function withoutTraceKeys(message: any): any {
  const meta = message.params?._meta;
  if (meta === undefined) return message;
  const { traceparent: _t, tracestate: _s, baggage: _b, ...rest } = meta;
  return { ...message, params: { ...message.params, _meta: rest } };
}

/** A listen request over loopback HTTP; one tools list change published; the handler closed; the stream read to its end. */
async function listenOnce(nodeHandler: any, handler: any): Promise<{ status: number; messages: any[] }> {
  const httpServer = http.createServer((req, res) => void nodeHandler(req, res));
  const url = mcpUrl(await listen(httpServer));
  try {
    const exchange: Exchange = {
      name: 'listen',
      body: { jsonrpc: '2.0', id: 'L1', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: envelope({ traceparent }) } },
    };
    const response = await fetch(url, { method: 'POST', headers: headersOf(exchange), body: JSON.stringify(exchange.body) });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    handler.notify.toolsChanged();
    let sent = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!sent && text.includes('list_changed')) {
        sent = true;
        await handler.close();
      }
    }
    return { status: response.status, messages: framesOf(text) };
  } finally {
    await closeServer(httpServer);
  }
}

describe('multi-round-trip requests (input_required)', { skip: typeof v2Server.inputRequired !== 'function' ? 'this v2 release has no inputRequired' : false }, () => {
  test('an input_required answer is no error; the retry carrying its requestState links to the first request\'s span', async () => {
    const handler = v2Server.createMcpHandler(() => {
      const server = makeServer();
      server.registerTool('confirm', { description: 'asks first', inputSchema: z4.object({}) }, async (_args: unknown, ctx: any) =>
        ctx.mcpReq.requestState?.() === undefined
          ? v2Server.inputRequired({ inputRequests: { ok: { method: 'elicitation/create', params: { mode: 'form', message: 'sure?', requestedSchema: { type: 'object', properties: {} } } } }, requestState: 'state-1' })
          : { content: [{ type: 'text', text: 'done' }] },
      );
      return server;
    });
    const call = (id: number, extra: Record<string, unknown>) =>
      handler.fetch(
        requestOf({
          name: 'confirm',
          body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'confirm', arguments: {}, ...extra, _meta: envelope({ 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } }) } },
          headers: { 'mcp-name': 'confirm' },
        }),
      );
    otel.reset();
    try {
      const first = (await (await call(1, {})).json()) as any;
      assert.equal(first.result.resultType, 'input_required');
      const retry = (await (await call(2, { requestState: 'state-1', inputResponses: { ok: { action: 'accept', content: {} } } })).json()) as any;
      assert.equal(retry.result.content[0].text, 'done');
      const unrelated = (await (await call(3, { requestState: 'unknown-state', inputResponses: { ok: { action: 'accept', content: {} } } })).json()) as any;
      assert.equal(unrelated.result.content[0].text, 'done');
    } finally {
      await handler.close();
    }
    const [firstSpan, retrySpan, unrelatedSpan] = ['1', '2', '3'].map((id) => serverSpans().find((s) => s.attributes['jsonrpc.request.id'] === id)!);
    assert.equal(firstSpan!.name, 'tools/call confirm');
    assert.equal(firstSpan!.attributes['error.type'], undefined);
    assert.equal(firstSpan!.status.code, 0);
    assert.deepEqual(retrySpan!.links.map((l) => l.context.spanId), [firstSpan!.spanContext().spanId]);
    assert.equal(retrySpan!.attributes['error.type'], undefined);
    assert.deepEqual(unrelatedSpan!.links, []);
  });
});

describe('2026-07-28 behind toNodeHandler over loopback HTTP', { skip: v2Node === undefined ? '@modelcontextprotocol/node is not installed' : false }, () => {
  before(() => otel.reset());
  after(() => instrumentation.setConfig({}));

  test('subscriptions/listen: a SERVER span until acknowledged; the acknowledgement and list_changed are its CLIENT children, list_changed carrying its context', async () => {
    const { bare, traced } = await bareThenTraced((handler) => listenOnce(v2Node.toNodeHandler(handler), handler));
    assert.equal(traced.status, bare.status);
    assert.deepEqual(traced.messages.map(withoutTraceKeys), bare.messages);
    assert.deepEqual(traced.messages.map((m) => m.method ?? `result ${m.id}`), [
      'notifications/subscriptions/acknowledged',
      'notifications/tools/list_changed',
      'result L1',
    ]);

    // v2 2.0.x writes list_changed without reading the event's params: the notification has nothing to
    // carry a context in, and no span is made for it (the acknowledgement still is traced).
    const eventParamsRead = !/^2\.0\./.test(v2.version);
    if (eventParamsRead) await waitFor(() => otel.spans().some((s) => s.name === 'notifications/tools/list_changed'), 5000, 'the list_changed span');
    const spans = otel.spans();
    const listenSpan = only(spans, 'subscriptions/listen', SpanKind.SERVER);
    const ack = only(spans, 'notifications/subscriptions/acknowledged', SpanKind.CLIENT);
    if (!eventParamsRead) {
      assert.deepEqual(spans.filter((s) => s.name === 'notifications/tools/list_changed'), []);
      assert.equal(traced.messages[1].params?._meta?.traceparent, undefined);
    }
    const changed = eventParamsRead ? only(spans, 'notifications/tools/list_changed', SpanKind.CLIENT) : ack;
    assert.equal(parentSpanIdOf(listenSpan), REMOTE_SPAN);
    assert.equal(listenSpan.spanContext().traceId, REMOTE_TRACE);
    assert.deepEqual(listenSpan.attributes, {
      'mcp.method.name': 'subscriptions/listen', 'mcp.protocol.version': V, ...REFUSED_BASE,
      'mcp.client.name': 'wire-client', 'mcp.client.version': '3.1.0',
      'network.protocol.version': '1.1', 'client.address': '127.0.0.1', 'client.port': listenSpan.attributes['client.port'],
      'jsonrpc.request.id': 'L1',
    });
    for (const child of [ack, changed]) {
      assert.equal(parentSpanIdOf(child), listenSpan.spanContext().spanId, child.name);
      assert.equal(child.attributes['mcp.method.name'], child.name);
      assert.equal(child.attributes['error.type'], undefined);
    }
    // The notification written on the stream carries its own CLIENT span's context.
    assert.equal(traced.messages[1]._meta, undefined);
    if (eventParamsRead) assert.equal(traced.messages[1].params._meta.traceparent, `00-${REMOTE_TRACE}-${changed.spanContext().spanId}-01`);
  });

  test('a refusal behind toNodeHandler has the HTTP peer', async () => {
    const handler = v2Server.createMcpHandler(makeServer);
    const httpServer = http.createServer((req, res) => void v2Node.toNodeHandler(handler)(req, res));
    const url = mcpUrl(await listen(httpServer));
    otel.reset();
    try {
      const exchange = EXCHANGES[2]!;
      const response = await fetch(url, { method: 'POST', headers: headersOf(exchange), body: JSON.stringify(exchange.body) });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as any).error.code, -32020);
      const span = only(otel.spans(), 'tools/list', SpanKind.SERVER);
      assert.equal(span.attributes['error.type'], '-32020');
      assert.equal(span.attributes['client.address'], '127.0.0.1');
      assert.equal(typeof span.attributes['client.port'], 'number');
    } finally {
      await handler.close();
      await closeServer(httpServer);
    }
  });
});

describe('the Web-standard transport (which the Node transport wraps)', () => {
  test('a JSON-RPC request refused before dispatch (unknown session) gets a SERVER span; a dispatched one gets exactly one', async () => {
    const transport = new v2Server.WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => 'session-1' });
    const server = makeServer();
    await server.connect(transport);
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      transport.handleRequest(
        new Request('http://localhost/mcp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
          body: JSON.stringify(body),
        }),
      );
    try {
      const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } } });
      await init.text();
      otel.reset();
      const refused = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }, { 'mcp-session-id': 'not-the-session', 'mcp-protocol-version': '2025-06-18' });
      assert.equal(refused.status, 404);
      assert.equal(((await refused.json()) as any).error.code, -32001);
      const spans = serverSpans();
      assert.equal(spans.length, 1);
      assert.deepEqual(spans[0]!.attributes, {
        'mcp.method.name': 'tools/list', ...REFUSED_BASE, 'jsonrpc.request.id': '9', 'error.type': '-32001', 'rpc.response.status_code': '-32001',
      });
      otel.reset();
      const served = await post({ jsonrpc: '2.0', id: 10, method: 'tools/list', params: {} }, { 'mcp-session-id': 'session-1', 'mcp-protocol-version': '2025-06-18' });
      await served.text();
      assert.deepEqual(serverSpans().map((s) => s.name), ['tools/list']);
      assert.equal(serverSpans()[0]!.attributes['mcp.session.id'], 'session-1');
    } finally {
      await server.close();
    }
  });
});
