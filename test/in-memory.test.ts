/*
 * Spans over the SDK's in-memory transport: every message sent and received, exact names, kinds,
 * parents and attributes, the error matrix, content capture, hooks and hostile `_meta`.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { connectScenario, mcpGeneration, mcpSdk, type ScenarioSession } from './helpers/mcp';
import { only, parentSpanIdOf, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();

/* eslint-disable @typescript-eslint/no-explicit-any */
const mcp = mcpSdk();
const { Client } = mcp;

type Session = ScenarioSession;
const connect = (): Promise<Session> => connectScenario();

const tracer = trace.getTracer('test');

function assertParent(child: FinishedSpan, parent: FinishedSpan): void {
  assert.equal(child.spanContext().traceId, parent.spanContext().traceId, `${child.name} is in ${parent.name}'s trace`);
  assert.equal(parentSpanIdOf(child), parent.spanContext().spanId, `${child.name} is a child of ${parent.name}`);
}

/** The CLIENT and SERVER spans of `tools/call <tool>`: the one child of the `app-operation` span, the other of it. */
function callUnderApp(spans: FinishedSpan[], tool: string): { client: FinishedSpan; server: FinishedSpan } {
  const app = only(spans, 'app-operation', SpanKind.INTERNAL);
  const client = only(spans, `tools/call ${tool}`, SpanKind.CLIENT);
  const server = only(spans, `tools/call ${tool}`, SpanKind.SERVER);
  assertParent(client, app);
  assertParent(server, client);
  return { client, server };
}

/**
 * The exact attributes of both spans of a scenario `tools/call echo`, request `requestId` on protocol
 * `version`: each side names its peer (the scenario server, the scenario client).
 */
function assertEchoAttributes(client: FinishedSpan, server: FinishedSpan, requestId: unknown, version: unknown): void {
  const shared = {
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': 'echo',
    'gen_ai.operation.name': 'execute_tool',
    'jsonrpc.request.id': requestId,
    'mcp.protocol.version': version,
  };
  assert.deepEqual(client.attributes, { ...shared, 'mcp.server.name': 'scenario-server', 'mcp.server.version': '1.2.3' });
  assert.deepEqual(server.attributes, { ...shared, 'mcp.client.name': 'scenario-client', 'mcp.client.version': '4.5.6' });
}

/**
 * One scenario session for the tests of the enclosing describe: connected before them (spans reset
 * first), closed after them with the configuration back to the defaults; spans reset before each test.
 */
function sharedSession(): Session {
  let current: Session | undefined;
  before(async () => {
    otel.reset();
    current = await connect();
  });
  after(async () => {
    instrumentation.setConfig({});
    await current?.close();
  });
  beforeEach(() => otel.reset());
  return {
    get client() {
      return current!.client;
    },
    get server() {
      return current!.server;
    },
    get clientTransport() {
      return current!.clientTransport;
    },
    get serverTransport() {
      return current!.serverTransport;
    },
    close: () => current!.close(),
  };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

describe('spans over the in-memory transport', () => {
  const session = sharedSession();
  let protocolVersion: string;

  before(() => {
    const init = only(otel.spans(), 'initialize', SpanKind.CLIENT);
    protocolVersion = init.attributes['mcp.protocol.version'] as string;
  });

  test('initialize: a CLIENT and a SERVER span with the negotiated version and both peers', async () => {
    const version = session.client.getServerVersion();
    assert.equal(version.name, 'scenario-server');
    assert.equal(typeof protocolVersion, 'string');
    assert.match(protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
  });

  test('tools/call: names, kinds, parents, attributes on both sides', async () => {
    const result = await tracer.startActiveSpan('app-operation', async (span: Span) => {
      try {
        return await session.client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      } finally {
        span.end();
      }
    });
    assert.deepEqual(result, { content: [{ type: 'text', text: 'hello' }] });
    const spans = otel.spans();
    const { client, server } = callUnderApp(spans, 'echo');
    const requestId = client.attributes['jsonrpc.request.id'];
    assert.equal(typeof requestId, 'string');
    assertEchoAttributes(client, server, requestId, protocolVersion);
    assert.equal(client.status.code, SpanStatusCode.UNSET);
    assert.equal(server.status.code, SpanStatusCode.UNSET);
    assert.equal(server.links.length, 0, 'in-memory delivery: the ambient span is the parent itself, no link');
  });

  test('prompts/get, resources/read, tools/list, ping: names and targets', async () => {
    await session.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    await session.client.readResource({ uri: 'test://static' });
    await session.client.listTools();
    await session.client.ping();
    const spans = otel.spans();
    const promptClient = only(spans, 'prompts/get greet', SpanKind.CLIENT);
    const promptServer = only(spans, 'prompts/get greet', SpanKind.SERVER);
    assertParent(promptServer, promptClient);
    assert.equal(promptClient.attributes['gen_ai.prompt.name'], 'greet');
    assert.equal(promptServer.attributes['gen_ai.prompt.name'], 'greet');
    assert.equal(promptClient.attributes['gen_ai.operation.name'], undefined);
    assert.equal(promptClient.attributes['gen_ai.prompt.variable.name'], undefined, 'no content without opt-in');
    const readClient = only(spans, 'resources/read', SpanKind.CLIENT);
    const readServer = only(spans, 'resources/read', SpanKind.SERVER);
    assertParent(readServer, readClient);
    assert.equal(readClient.attributes['mcp.resource.uri'], 'test://static');
    assert.equal(readServer.attributes['mcp.resource.uri'], 'test://static');
    assertParent(only(spans, 'tools/list', SpanKind.SERVER), only(spans, 'tools/list', SpanKind.CLIENT));
    assertParent(only(spans, 'ping', SpanKind.SERVER), only(spans, 'ping', SpanKind.CLIENT));
  });

  test('server-initiated requests: the server sends CLIENT spans, the client handles SERVER spans', async () => {
    await session.client.callTool({ name: 'ask-llm', arguments: {} });
    await session.client.callTool({ name: 'list-roots', arguments: {} });
    const spans = otel.spans();
    for (const [tool, method] of [
      ['ask-llm', 'sampling/createMessage'],
      ['list-roots', 'roots/list'],
    ] as const) {
      const toolServer = only(spans, `tools/call ${tool}`, SpanKind.SERVER);
      const sent = only(spans, method, SpanKind.CLIENT);
      const handled = only(spans, method, SpanKind.SERVER);
      assertParent(sent, toolServer);
      assertParent(handled, sent);
      assert.equal(sent.attributes['mcp.client.name'], 'scenario-client', 'the server names its peer, the client');
      assert.equal(handled.attributes['mcp.server.name'], 'scenario-server', 'the client names its peer, the server');
      assert.equal(sent.attributes['jsonrpc.request.id'], handled.attributes['jsonrpc.request.id']);
    }
  });

  test('elicitation/create is traced in both directions', { skip: !mcp.features.elicitation && 'elicitation arrived in SDK 1.13' }, async () => {
    await session.client.callTool({ name: 'elicit', arguments: {} });
    const spans = otel.spans();
    assertParent(only(spans, 'elicitation/create', SpanKind.SERVER), only(spans, 'elicitation/create', SpanKind.CLIENT));
    assertParent(only(spans, 'elicitation/create', SpanKind.CLIENT), only(spans, 'tools/call elicit', SpanKind.SERVER));
  });

  test('notifications get spans: progress sent by a tool is a child of its tools/call span', { skip: !mcp.features.toolProgressToken && 'tools see the progress token from SDK 1.11' }, async () => {
    const seen: number[] = [];
    await mcp.callTool(session.client, { name: 'progress', arguments: { steps: 3 } }, {
      onprogress: (p: { progress: number }) => seen.push(p.progress),
    });
    assert.deepEqual(seen, [1, 2, 3]);
    const spans = otel.spans();
    const toolServer = only(spans, 'tools/call progress', SpanKind.SERVER);
    const sent = spans.filter((s) => s.name === 'notifications/progress' && s.kind === SpanKind.CLIENT);
    const received = spans.filter((s) => s.name === 'notifications/progress' && s.kind === SpanKind.SERVER);
    assert.equal(sent.length, 3);
    assert.equal(received.length, 3);
    for (const s of sent) {
      assertParent(s, toolServer);
      assert.equal(s.attributes['jsonrpc.request.id'], undefined, 'notifications have no request id');
    }
    const sentIds = new Set(sent.map((s) => s.spanContext().spanId));
    for (const r of received) assert.ok(sentIds.has(parentSpanIdOf(r)!), 'each received notification continues its sender');
  });

  test('one trace from the client app span through the tool to the tool\'s own work', async () => {
    const { tools } = await session.client.listTools();
    assert.ok(tools.some((t: { name: string }) => t.name === 'echo'));
    otel.reset();
    const serverSpanInsideTool: string[] = [];
    mcp.tool(session.server, 'inner-work', 'does its own traced work', {}, async () => {
      const inner = tracer.startSpan('tool-internal-work');
      serverSpanInsideTool.push(parentSpanIdOf(inner as unknown as FinishedSpan) ?? '');
      inner.end();
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    await tracer.startActiveSpan('app-operation', async (span: Span) => {
      await session.client.callTool({ name: 'inner-work', arguments: {} });
      span.end();
    });
    const spans = otel.spans();
    const { server } = callUnderApp(spans, 'inner-work');
    assertParent(only(spans, 'tool-internal-work', SpanKind.INTERNAL), server);
  });
});

describe('across SDK generations, in memory', () => {
  beforeEach(() => otel.reset());

  for (const [clientMajor, serverMajor] of [
    [1, 2],
    [2, 1],
  ] as const) {
    test(`a v${clientMajor} client and a v${serverMajor} server: one trace both ways, each side names its peer`, async () => {
      const { client, close } = await connectScenario({ client: mcpGeneration(clientMajor), server: mcpGeneration(serverMajor) });
      try {
        otel.reset();
        await tracer.startActiveSpan('app-operation', async (span: Span) => {
          await client.callTool({ name: 'echo', arguments: { text: 'across' } });
          await client.callTool({ name: 'list-roots', arguments: {} });
          span.end();
        });
        const spans = otel.spans();
        const { client: call, server: handled } = callUnderApp(spans, 'echo');
        const version = call.attributes['mcp.protocol.version'];
        assert.match(String(version), /^\d{4}-\d{2}-\d{2}$/);
        assertEchoAttributes(call, handled, call.attributes['jsonrpc.request.id'], version);
        // The server (one generation) asks the client (the other) from inside its tool.
        const rootsSent = only(spans, 'roots/list', SpanKind.CLIENT);
        const rootsHandled = only(spans, 'roots/list', SpanKind.SERVER);
        assertParent(rootsSent, only(spans, 'tools/call list-roots', SpanKind.SERVER));
        assertParent(rootsHandled, rootsSent);
        assert.equal(rootsHandled.attributes['jsonrpc.request.id'], rootsSent.attributes['jsonrpc.request.id']);
      } finally {
        await close();
      }
    });
  }
});

describe('the error matrix', () => {
  const session = sharedSession();

  test('a throwing tool: the SDK returns isError, both spans are tool_error', async () => {
    const result = await session.client.callTool({ name: 'fail', arguments: {} });
    assert.equal(result.isError, true);
    const spans = otel.spans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(spans, 'tools/call fail', kind);
      assert.equal(span.attributes['error.type'], 'tool_error');
      assert.equal(span.attributes['rpc.response.status_code'], undefined);
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, undefined, 'tool output is user content: not in the status without opt-in');
    }
  });

  test('an isError result: tool_error on both sides', async () => {
    const result = await session.client.callTool({ name: 'soft-fail', arguments: {} });
    assert.equal(result.isError, true);
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(otel.spans(), 'tools/call soft-fail', kind);
      assert.equal(span.attributes['error.type'], 'tool_error');
      assert.equal(span.status.code, SpanStatusCode.ERROR);
    }
  });

  test('an unknown tool', async () => {
    let outcome: any;
    try {
      outcome = await session.client.callTool({ name: 'no-such-tool', arguments: {} });
    } catch (error) {
      outcome = error;
    }
    const spans = otel.spans();
    const client = only(spans, 'tools/call no-such-tool', SpanKind.CLIENT);
    const server = only(spans, 'tools/call no-such-tool', SpanKind.SERVER);
    if (mcp.expect.unknownToolRejects) assert.ok(outcome instanceof Error, 'this generation rejects an unknown tool');
    if (outcome instanceof Error) {
      // Older 1.x SDKs and v2 answer with a JSON-RPC error -32602.
      const code = String((outcome as any).code);
      assert.equal(client.attributes['error.type'], code);
      assert.equal(client.attributes['rpc.response.status_code'], code);
      assert.equal(client.status.code, SpanStatusCode.ERROR);
      assert.equal(server.attributes['rpc.response.status_code'], code);
      assert.equal(server.status.code, SpanStatusCode.UNSET, 'a caller fault does not fail the server span');
    } else {
      assert.equal(outcome.isError, true);
      assert.equal(client.attributes['error.type'], 'tool_error');
      assert.equal(server.attributes['error.type'], 'tool_error');
    }
  });

  test('invalid params: a JSON-RPC error, caller fault on the server', async () => {
    // An unknown prompt is answered with -32602 (Invalid params) on every supported SDK.
    await assert.rejects(session.client.getPrompt({ name: 'no-such-prompt' }), (error: any) => error.code === -32602);
    const spans = otel.spans();
    const client = only(spans, 'prompts/get no-such-prompt', SpanKind.CLIENT);
    const server = only(spans, 'prompts/get no-such-prompt', SpanKind.SERVER);
    assert.equal(client.attributes['error.type'], '-32602');
    assert.equal(client.attributes['rpc.response.status_code'], '-32602');
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.match(client.status.message ?? '', /no-such-prompt/);
    assert.equal(server.attributes['error.type'], '-32602');
    assert.equal(server.attributes['rpc.response.status_code'], '-32602');
    assert.equal(server.status.code, SpanStatusCode.UNSET);
  });

  test('method not found: -32601 on both sides, caller fault on the server', async () => {
    await assert.rejects(
      mcp.request(session.client, 'no/such-method'),
      (error: any) => error.code === -32601,
    );
    const spans = otel.spans();
    const client = only(spans, 'no/such-method', SpanKind.CLIENT);
    const server = only(spans, 'no/such-method', SpanKind.SERVER);
    assertParent(server, client);
    assert.equal(client.attributes['error.type'], '-32601');
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(client.status.message, 'Method not found');
    assert.equal(server.attributes['error.type'], '-32601');
    assert.equal(server.attributes['rpc.response.status_code'], '-32601');
    assert.equal(server.status.code, SpanStatusCode.UNSET);
  });

  test('a server handler throwing an unexpected error: -32603 and an exception event', async () => {
    mcp.setRequestHandler(session.server.server, 'resources/templates/list', () => {
      throw new TypeError('handler bug');
    });
    await assert.rejects(session.client.listResourceTemplates(), (error: any) => error.code === -32603);
    const spans = otel.spans();
    const server = only(spans, 'resources/templates/list', SpanKind.SERVER);
    assert.equal(server.attributes['error.type'], '-32603');
    assert.equal(server.status.code, SpanStatusCode.ERROR);
    assert.equal(server.status.message, 'handler bug');
    assert.deepEqual(
      server.events.map((e) => [e.name, e.attributes?.['exception.type']]),
      [['exception', 'TypeError']],
    );
    const client = only(spans, 'resources/templates/list', SpanKind.CLIENT);
    assert.equal(client.attributes['error.type'], '-32603');
  });

  test('a timeout: timeout on the client, cancelled (not failed) on the server', async () => {
    await assert.rejects(
      mcp.callTool(session.client, { name: 'slow', arguments: { ms: 2000 } }, { timeout: 30 }),
      (error: any) => error.code === mcp.expect.timeoutCode,
    );
    await waitFor(() => otel.spans().some((s) => s.name === 'tools/call slow' && s.kind === SpanKind.SERVER), 3000, 'server span');
    const spans = otel.spans();
    const client = only(spans, 'tools/call slow', SpanKind.CLIENT);
    const server = only(spans, 'tools/call slow', SpanKind.SERVER);
    assert.equal(client.attributes['error.type'], 'timeout');
    assert.equal(client.attributes['rpc.response.status_code'], undefined, 'no response came back');
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(server.attributes['error.type'], 'cancelled');
    assert.equal(server.status.code, SpanStatusCode.UNSET);
    const cancelReceived = only(spans, 'notifications/cancelled', SpanKind.SERVER);
    assert.equal(cancelReceived.attributes['mcp.method.name'], 'notifications/cancelled');
  });

  test('cancellation through an AbortSignal: cancelled on both sides', async () => {
    const controller = new AbortController();
    const pending = mcp.callTool(session.client, { name: 'slow', arguments: { ms: 2000 } }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort('user changed their mind');
    await assert.rejects(pending);
    await waitFor(() => otel.spans().filter((s) => s.name === 'tools/call slow').length === 2, 3000, 'both spans');
    const spans = otel.spans();
    const client = only(spans, 'tools/call slow', SpanKind.CLIENT);
    const server = only(spans, 'tools/call slow', SpanKind.SERVER);
    assert.equal(client.attributes['error.type'], 'cancelled');
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(server.attributes['error.type'], 'cancelled');
    assert.equal(server.status.code, SpanStatusCode.UNSET);
  });

  test('the connection closes mid-request: both spans end as connection_closed', async () => {
    const own = await connect();
    otel.reset();
    // A short timeout: SDKs before 1.2x leave request timers running after close.
    const pending = mcp.callTool(own.client, { name: 'slow', arguments: { ms: 5000 } }, { timeout: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await own.client.close();
    await assert.rejects(pending, (error: any) => error.code === mcp.expect.connectionClosedCode);
    await settle();
    const spans = otel.spans();
    const client = only(spans, 'tools/call slow', SpanKind.CLIENT);
    const server = only(spans, 'tools/call slow', SpanKind.SERVER);
    assert.equal(client.attributes['error.type'], 'connection_closed');
    assert.equal(client.status.code, SpanStatusCode.ERROR);
    assert.equal(server.attributes['error.type'], 'connection_closed');
    assert.equal(server.status.code, SpanStatusCode.ERROR);
    await own.server.close();
  });

  test('a request that never gets a reply ends when the connection closes', async () => {
    const own = await connect();
    // A handler that never settles.
    mcp.setRequestHandler(own.server.server, 'resources/templates/list', () => new Promise(() => {}));
    otel.reset();
    const pending = own.client.listResourceTemplates(undefined, { timeout: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await own.server.close();
    await assert.rejects(pending);
    await settle();
    const spans = otel.spans();
    assert.equal(only(spans, 'resources/templates/list', SpanKind.SERVER).attributes['error.type'], 'connection_closed');
    assert.equal(only(spans, 'resources/templates/list', SpanKind.CLIENT).attributes['error.type'], 'connection_closed');
    await own.client.close();
  });

  test('sending while not connected: the span records the local failure', async () => {
    const lonely = new Client({ name: 'lonely', version: '0' });
    await assert.rejects(lonely.ping());
    const span = only(otel.spans(), 'ping', SpanKind.CLIENT);
    assert.equal(span.attributes['error.type'], 'Error');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'Not connected');
  });
});

describe('context in _meta', () => {
  const session = sharedSession();

  function sendRaw(message: object): Promise<any> {
    // Drive the server directly with a hand-written message, as a foreign client would.
    return new Promise((resolve) => {
      const transport = session.server.server.transport;
      const originalSend = transport.send.bind(transport);
      transport.send = async (response: any) => {
        transport.send = originalSend;
        resolve(response);
      };
      transport.onmessage(message);
    });
  }

  test('a traceparent in _meta becomes the SERVER span\'s parent, baggage is kept', async () => {
    let seenBaggage: string | undefined;
    mcp.tool(session.server, 'read-baggage', 'reads baggage', {}, async () => {
      seenBaggage = propagation.getBaggage(context.active())?.getEntry('tenant')?.value;
      return { content: [] };
    });
    const response = await sendRaw({
      jsonrpc: '2.0',
      id: 'raw-1',
      method: 'tools/call',
      params: {
        name: 'read-baggage',
        arguments: {},
        _meta: {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          tracestate: 'vendor=opaque',
          baggage: 'tenant=acme',
        },
      },
    });
    assert.equal(response.id, 'raw-1');
    const server = only(otel.spans(), 'tools/call read-baggage', SpanKind.SERVER);
    assert.equal(server.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(parentSpanIdOf(server), 'b7ad6b7169203331');
    assert.equal(server.spanContext().traceState?.get('vendor'), 'opaque');
    assert.equal(server.attributes['jsonrpc.request.id'], 'raw-1');
    assert.equal(seenBaggage, 'acme');
  });

  test('an ambient span other than the _meta parent is linked', async () => {
    const ambient = tracer.startSpan('transport-request');
    const response = await context.with(trace.setSpan(context.active(), ambient), () =>
      sendRaw({
        jsonrpc: '2.0',
        id: 'raw-2',
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' }, _meta: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      }),
    );
    ambient.end();
    assert.equal(response.id, 'raw-2');
    const server = only(otel.spans(), 'tools/call echo', SpanKind.SERVER);
    assert.equal(parentSpanIdOf(server), 'b7ad6b7169203331');
    assert.deepEqual(
      server.links.map((l) => l.context.spanId),
      [ambient.spanContext().spanId],
    );
  });

  test('garbage in _meta is ignored, never thrown, and the request is answered as without it', async () => {
    // `_meta` itself must be an object: the SDK drops messages where it is not, before any handler.
    const garbage: unknown[] = [
      {},
      { traceparent: 12345 },
      { traceparent: '00-zzzz-not-valid-01' },
      { traceparent: `00-${'a'.repeat(10_000)}` },
      { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' },
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 7 },
      { baggage: 'x'.repeat(100_000) },
      { baggage: '%%%;;;===' },
      { traceparent: { nested: true } },
      { traceparent: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'] },
    ];
    let i = 0;
    for (const meta of garbage) {
      const id = `garbage-${i++}`;
      const response = await sendRaw({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: id }, _meta: meta },
      });
      assert.equal(response.id, id);
      assert.deepEqual(response.result, { content: [{ type: 'text', text: id }] }, `answered normally with _meta ${JSON.stringify(meta)?.slice(0, 40)}`);
    }
    const servers = otel.spans().filter((s) => s.name === 'tools/call echo' && s.kind === SpanKind.SERVER);
    assert.equal(servers.length, garbage.length);
    for (const span of servers) {
      const valid = span.attributes['jsonrpc.request.id'] === 'garbage-5';
      // Only the well-formed traceparent (with a bad tracestate) is honoured.
      assert.equal(parentSpanIdOf(span), valid ? 'b7ad6b7169203331' : undefined, `parent of ${span.attributes['jsonrpc.request.id']}`);
      assert.equal(span.status.code, SpanStatusCode.UNSET);
    }
  });

  test('the sender injects into a copy: the caller\'s params and _meta are untouched', async () => {
    const meta = { progressToken: undefined as unknown, custom: 'keep-me' };
    delete meta.progressToken;
    const params = { name: 'echo', arguments: { text: 'copy' }, _meta: meta };
    const snapshot = JSON.parse(JSON.stringify(params));
    let receivedMeta: any;
    mcp.setRequestHandler(session.server.server, 'resources/templates/list', (request: any) => {
      receivedMeta = request.params?._meta;
      return { resourceTemplates: [] };
    });
    await session.client.callTool(params);
    assert.deepEqual(params, snapshot);
    assert.equal(params._meta, meta);
    assert.deepEqual(Object.keys(meta), ['custom']);
    await session.client.listResourceTemplates({ _meta: { custom: 'x' } });
    assert.equal(receivedMeta.custom, 'x');
    assert.match(receivedMeta.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });
});

describe('content capture', () => {
  const session = sharedSession();

  test('off by default', async () => {
    await session.client.callTool({ name: 'echo', arguments: { text: 'secret-ish' } });
    for (const span of otel.spans()) {
      assert.equal(span.attributes['gen_ai.tool.call.arguments'], undefined);
      assert.equal(span.attributes['gen_ai.tool.call.result'], undefined);
    }
  });

  test('on: arguments, results and prompt variables, with secrets redacted', async () => {
    instrumentation.setConfig({ captureContent: true });
    mcp.tool(session.server, 'login', 'takes credentials', { user: mcp.z.string(), password: mcp.z.string(), apiKey: mcp.z.string() }, async () => ({
      content: [{ type: 'text', text: 'welcome' }],
      structuredContent: undefined,
    }));
    await session.client.callTool({ name: 'login', arguments: { user: 'ada', password: 'hunter2', apiKey: 'sk-123' } });
    await session.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    const spans = otel.spans();
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const call = only(spans, 'tools/call login', kind);
      assert.equal(call.attributes['gen_ai.tool.call.arguments'], '{"user":"ada","password":"[REDACTED]","apiKey":"[REDACTED]"}');
      assert.equal(call.attributes['gen_ai.tool.call.result'], '{"content":[{"type":"text","text":"welcome"}]}');
      const prompt = only(spans, 'prompts/get greet', kind);
      assert.equal(prompt.attributes['gen_ai.prompt.variable.name'], 'Ada');
    }
  });

  test('capped with a truncation marker; tool errors carry their text in the status', async () => {
    instrumentation.setConfig({ captureContent: true, maxContentLength: 64 });
    await session.client.callTool({ name: 'big', arguments: { size: 10_000 } });
    await session.client.callTool({ name: 'soft-fail', arguments: {} });
    const spans = otel.spans();
    const result = only(spans, 'tools/call big', SpanKind.SERVER).attributes['gen_ai.tool.call.result'] as string;
    assert.equal(result.length, 64 + '…[truncated]'.length);
    assert.ok(result.endsWith('…[truncated]'));
    assert.equal(only(spans, 'tools/call soft-fail', SpanKind.SERVER).status.message, 'soft failure');
  });

  test('the environment variable turns it on', async () => {
    process.env.OTEL_INSTRUMENTATION_MCP_CAPTURE_CONTENT = 'true';
    try {
      instrumentation.setConfig({});
      await session.client.callTool({ name: 'echo', arguments: { text: 'from-env' } });
      assert.equal(only(otel.spans(), 'tools/call echo', SpanKind.CLIENT).attributes['gen_ai.tool.call.arguments'], '{"text":"from-env"}');
    } finally {
      delete process.env.OTEL_INSTRUMENTATION_MCP_CAPTURE_CONTENT;
      instrumentation.setConfig({});
    }
  });
});

describe('hooks', () => {
  const session = sharedSession();

  test('requestHook and responseHook see each operation; a throwing hook changes nothing', async () => {
    const seen: string[] = [];
    instrumentation.setConfig({
      requestHook: (span, info) => {
        seen.push(`start ${info.direction} ${info.method}`);
        span.setAttribute('test.hooked', true);
        throw new Error('hook bug');
      },
      responseHook: (span, info) => {
        seen.push(`end ${info.direction} ${info.method} ${info.errorType ?? 'ok'}`);
        span.setAttribute('test.outcome', info.errorType ?? 'ok');
        throw new Error('hook bug');
      },
    });
    const result = await session.client.callTool({ name: 'soft-fail', arguments: {} });
    assert.equal(result.isError, true);
    assert.deepEqual(seen, [
      'start outgoing tools/call',
      'start incoming tools/call',
      'end incoming tools/call tool_error',
      'end outgoing tools/call tool_error',
    ]);
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const span = only(otel.spans(), 'tools/call soft-fail', kind);
      assert.equal(span.attributes['test.hooked'], true);
      assert.equal(span.attributes['test.outcome'], 'tool_error');
    }
  });

  test('ignoreMethods: no span, no propagation, same answer', async () => {
    instrumentation.setConfig({ ignoreMethods: ['ping'] });
    assert.deepEqual(await session.client.ping(), {});
    assert.equal(otel.spans().filter((s) => s.name === 'ping').length, 0);
  });
});

describe('execute_tool spans of another GenAI instrumentation', () => {
  const genai = trace.getTracer('some-genai-instrumentation');
  const session = sharedSession();

  async function callInsideExecuteTool(outerTool: string, calledTool: string): Promise<void> {
    await genai.startActiveSpan(
      `execute_tool ${outerTool}`,
      { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': outerTool } },
      async (span: Span) => {
        await session.client.callTool({ name: calledTool, arguments: { text: 'x' } });
        span.end();
      },
    );
  }

  test('the outer span gets the MCP attributes; no duplicate CLIENT span; the server continues it', async () => {
    await callInsideExecuteTool('echo', 'echo');
    const spans = otel.spans();
    assert.equal(spans.filter((s) => s.name === 'tools/call echo' && s.kind === SpanKind.CLIENT).length, 0);
    const outer = only(spans, 'execute_tool echo', SpanKind.INTERNAL);
    assert.equal(outer.attributes['mcp.method.name'], 'tools/call');
    assert.equal(outer.attributes['gen_ai.tool.name'], 'echo');
    assert.equal(typeof outer.attributes['jsonrpc.request.id'], 'string');
    assert.equal(outer.attributes['mcp.server.name'], 'scenario-server');
    assert.equal(outer.ended, true);
    assertParent(only(spans, 'tools/call echo', SpanKind.SERVER), outer);
  });

  test('a failing tool marks the outer span with error.type', async () => {
    await genai.startActiveSpan('execute_tool soft-fail', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'soft-fail' } }, async (span: Span) => {
      await session.client.callTool({ name: 'soft-fail', arguments: {} });
      span.end();
    });
    const outer = only(otel.spans(), 'execute_tool soft-fail', SpanKind.INTERNAL);
    assert.equal(outer.attributes['error.type'], 'tool_error');
    assert.equal(outer.status.code, SpanStatusCode.ERROR);
  });

  test('another tool\'s execute_tool span, or the option off: a nested CLIENT span as usual', async () => {
    await callInsideExecuteTool('something-else', 'echo');
    let spans = otel.spans();
    assertParent(only(spans, 'tools/call echo', SpanKind.CLIENT), only(spans, 'execute_tool something-else', SpanKind.INTERNAL));
    assert.equal(only(spans, 'execute_tool something-else', SpanKind.INTERNAL).attributes['mcp.method.name'], undefined);
    otel.reset();
    instrumentation.setConfig({ enrichExecuteToolSpans: false });
    await callInsideExecuteTool('echo', 'echo');
    spans = otel.spans();
    assertParent(only(spans, 'tools/call echo', SpanKind.CLIENT), only(spans, 'execute_tool echo', SpanKind.INTERNAL));
  });
});

describe('the instrumentation itself', () => {
  test('disable() stops telemetry and enable() resumes it; no double wrapping', async () => {
    const session = await connect();
    otel.reset();
    instrumentation.disable();
    await session.client.callTool({ name: 'echo', arguments: { text: 'dark' } });
    assert.equal(otel.spans().length, 0);
    instrumentation.enable();
    instrumentation.enable();
    await session.client.callTool({ name: 'echo', arguments: { text: 'lit' } });
    assert.equal(otel.spans().filter((s) => s.name === 'tools/call echo').length, 2);
    await session.close();
  });

  test('a handler runs exactly once per request and receives the SDK\'s own extra', async () => {
    const session = await connect();
    const calls: any[] = [];
    mcp.tool(session.server, 'count', 'counts calls', {}, async (_args: unknown, extra) => {
      calls.push(extra.raw);
      return { content: [] };
    });
    await session.client.callTool({ name: 'count', arguments: {} });
    assert.equal(calls.length, 1);
    // The SDK's own second argument: v1 `extra`, v2 `ctx` (its request part under `mcpReq`).
    const own = mcp.major === 1 ? { signal: calls[0].signal, send: calls[0].sendNotification } : { signal: calls[0].mcpReq.signal, send: calls[0].mcpReq.notify };
    assert.ok(own.signal instanceof AbortSignal);
    assert.equal(typeof own.send, 'function');
    await session.close();
  });
});
