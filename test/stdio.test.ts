/*
 * The stdio transport end to end: a real MCP server in a child process (CommonJS, and ESM under the
 * loader hook a user registers), the client in this process, both instrumented. Asserts the spans of
 * both processes with exact values, and that trace context crosses the process boundary in `_meta`
 * in both directions (client → server requests, server → client sampling / roots requests).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { parentSpanIdOf, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';
import { childEnv, fileUrl, fixture } from './helpers/sdk';
import { mcpGeneration, SDK_MAJOR, type Major, type McpSdk } from './helpers/mcp';
import { readChildSpans, waitForExit, type ChildSpan } from './helpers/process';
import { McpInstrumentation } from '../src';

const otel = setupOtel();
new McpInstrumentation();

// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require(fixture('scenario.cjs'));

/** A JSON-RPC message as this process sent it on the wire. */
interface WireMessage {
  jsonrpc: string;
  id?: number | string;
  method?: string;
  params?: { name?: string; uri?: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

const SPAN_WAIT_MS = 20_000;
const CHILD_EXIT_MS = 10_000;

/** This process's span in the shape a child writes its own. */
function toJson(span: FinishedSpan): ChildSpan {
  const ctx = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: parentSpanIdOf(span),
    attributes: { ...span.attributes },
    status: { code: span.status.code, ...(span.status.message !== undefined ? { message: span.status.message } : {}) },
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    events: span.events.map((e) => e.name),
  };
}

function describeSpans(spans: ChildSpan[]): string {
  return spans.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ');
}

/** The one span named `name` of `kind` among `spans`; fails when there is not exactly one. */
function one(spans: ChildSpan[], name: string, kind: SpanKind, where: string): ChildSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  assert.equal(found.length, 1, `expected exactly one ${SpanKind[kind]} "${name}" span in ${where}; spans: ${describeSpans(spans)}`);
  return found[0]!;
}

/** The one message this process sent that matches `predicate`. */
function oneSent(sent: WireMessage[], what: string, predicate: (m: WireMessage) => boolean): WireMessage {
  const found = sent.filter(predicate);
  assert.equal(found.length, 1, `expected exactly one sent ${what}; sent: ${sent.map((m) => m.method ?? `response ${String(m.id)}`).join(', ')}`);
  return found[0]!;
}

/** `sender` (CLIENT) → `receiver` (SERVER) across the process boundary, through the message's `_meta`. */
function assertHop(sender: ChildSpan, receiver: ChildSpan, wire: WireMessage | undefined): void {
  assert.equal(sender.kind, SpanKind.CLIENT, `${sender.name}: sender kind`);
  assert.equal(receiver.kind, SpanKind.SERVER, `${receiver.name}: receiver kind`);
  assert.equal(receiver.traceId, sender.traceId, `${receiver.name}: same trace as the sender`);
  assert.equal(receiver.parentSpanId, sender.spanId, `${receiver.name}: parent is the sender's span`);
  assert.deepEqual(receiver.links, [], `${receiver.name}: no links (no ambient span on stdio)`);
  if (wire !== undefined) {
    assert.equal(wire.params?._meta?.traceparent, `00-${sender.traceId}-${sender.spanId}-01`, `${sender.name}: traceparent on the wire`);
  }
}

function assertStatus(span: ChildSpan, code: SpanStatusCode, message?: string): void {
  assert.deepEqual(
    { code: span.status.code, message: span.status.message },
    { code, message },
    `${SpanKind[span.kind]} ${span.name}: status`,
  );
}

/** The arguments of `node` that start the stdio server fixture: CommonJS, or ESM under the loader hook. */
function serverArgs(flavour: 'cjs' | 'esm'): string[] {
  return flavour === 'cjs'
    ? [fixture('stdio-server.cjs')]
    : ['--import', fileUrl(fixture('esm-loader.mjs')), fixture('stdio-server.mjs')];
}

/**
 * The sessions: the generation under test in both processes (CJS and ESM child), and across
 * generations both ways (a v1 client here with a v2 server child, a v2 client with a v1 server child).
 */
const SESSIONS: { flavour: 'cjs' | 'esm'; clientMajor: Major; serverMajor: Major }[] = [
  { flavour: 'cjs', clientMajor: SDK_MAJOR, serverMajor: SDK_MAJOR },
  { flavour: 'esm', clientMajor: SDK_MAJOR, serverMajor: SDK_MAJOR },
  { flavour: 'cjs', clientMajor: 1, serverMajor: 2 },
  { flavour: 'cjs', clientMajor: 2, serverMajor: 1 },
];

/** The version a `clientSdk` client and a `serverSdk` server agree on: the client's latest if the server has it. */
function negotiatedVersion(clientSdk: McpSdk, serverSdk: McpSdk): string {
  return serverSdk.SUPPORTED_PROTOCOL_VERSIONS.includes(clientSdk.LATEST_PROTOCOL_VERSION)
    ? clientSdk.LATEST_PROTOCOL_VERSION
    : serverSdk.LATEST_PROTOCOL_VERSION;
}

for (const { flavour, clientMajor, serverMajor } of SESSIONS) {
  const generations = clientMajor === serverMajor ? `v${clientMajor}` : `v${clientMajor} client, v${serverMajor} server`;
  describe(`stdio (${generations}): client in this process, ${flavour.toUpperCase()} server in a child process`, () => {
    const serverName = `stdio-server-${flavour}`;
    const clientSdk = mcpGeneration(clientMajor);
    const serverSdk = mcpGeneration(serverMajor);
    /** The child loads the server's generation. */
    const serverEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => childEnv({ ...extra, MCP_SDK_MAJOR: String(serverMajor) });
    let dir: string;
    let spanFile: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let client: any;
    let proc: ChildProcess | undefined;
    let stderr = '';
    const sent: WireMessage[] = [];
    /** What the scripted session returned, and the spans both processes recorded for it. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const results: Record<string, any> = {};
    let parentSpans: ChildSpan[] = [];
    let childSpans: ChildSpan[] = [];
    let protocolVersion: string;

    /** The attributes every span of this connection has, by the role of the process that recorded it. */
    function connectionAttributes(recordedBy: 'client' | 'server'): Record<string, unknown> {
      return {
        'mcp.protocol.version': protocolVersion,
        'network.transport': 'pipe',
        ...(recordedBy === 'client'
          ? { 'mcp.server.name': serverName, 'mcp.server.version': '1.2.3' }
          : { 'mcp.client.name': scenario.CLIENT_INFO.name, 'mcp.client.version': scenario.CLIENT_INFO.version }),
      };
    }

    function childSpansNow(): ChildSpan[] {
      return readChildSpans(spanFile);
    }

    async function waitForChildSpans(predicate: (spans: ChildSpan[]) => boolean, what: string): Promise<ChildSpan[]> {
      await waitFor(() => predicate(childSpansNow()), SPAN_WAIT_MS, `${what} (child stderr: ${stderr})`);
      return childSpansNow();
    }

    before(async () => {
      otel.reset();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-stdio-${flavour}-`));
      spanFile = path.join(dir, 'spans.jsonl');
      client = new clientSdk.Client(scenario.CLIENT_INFO, scenario.clientCapabilities(clientSdk));
      scenario.configureScenarioClient(client, clientSdk);
      const transport = new clientSdk.StdioClientTransport({
        command: process.execPath,
        args: serverArgs(flavour),
        env: serverEnv({ SPAN_FILE: spanFile }),
        stderr: 'pipe',
      });
      const send = transport.send.bind(transport);
      transport.send = (message: WireMessage, options?: unknown) => {
        sent.push(JSON.parse(JSON.stringify(message)) as WireMessage);
        return send(message, options);
      };

      await client.connect(transport);
      proc = (transport as { _process?: ChildProcess })._process;
      assert.ok(proc !== undefined, 'the transport spawned a child process');
      transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

      results.echo = await client.callTool({ name: 'echo', arguments: { text: 'hello over stdio' } });
      results.softFail = await client.callTool({ name: 'soft-fail', arguments: {} });
      results.fail = await client.callTool({ name: 'fail', arguments: {} });
      results.greet = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
      results.resource = await client.readResource({ uri: 'test://static' });
      results.askLlm = await client.callTool({ name: 'ask-llm', arguments: {} });

      parentSpans = otel.spans().map(toJson);
      const expected = [
        'initialize',
        'notifications/initialized',
        'tools/call echo',
        'tools/call soft-fail',
        'tools/call fail',
        'prompts/get greet',
        'resources/read',
        'tools/call ask-llm',
        'sampling/createMessage',
      ];
      childSpans = await waitForChildSpans(
        (spans) => expected.every((name) => spans.some((s) => s.name === name)),
        `the ${flavour} server's spans`,
      );
      protocolVersion = one(parentSpans, 'initialize', SpanKind.CLIENT, 'this process').attributes['mcp.protocol.version'] as string;
    });

    after(async () => {
      try {
        await client?.close();
      } catch {
        // the child is stopped below either way
      }
      if (proc !== undefined) await waitForExit(proc, CHILD_EXIT_MS);
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the scripted session got the scenario results', () => {
      assert.deepEqual(results.echo.content, [{ type: 'text', text: 'hello over stdio' }]);
      assert.equal(results.softFail.isError, true);
      assert.equal(results.fail.isError, true);
      assert.deepEqual(results.fail.content, [{ type: 'text', text: 'boom' }]);
      assert.deepEqual(results.greet.messages, [{ role: 'user', content: { type: 'text', text: 'Hello, Ada!' } }]);
      assert.deepEqual(results.resource.contents, [{ uri: 'test://static', text: 'static content' }]);
      assert.deepEqual(results.askLlm.content, [{ type: 'text', text: 'llm said: sampled' }]);
    });

    test('initialize: CLIENT span here, SERVER span in the child, the negotiated version on both', () => {
      const wire = oneSent(sent, 'initialize', (m) => m.method === 'initialize');
      // The client asks for its latest version; the server accepts it if it has it, else offers its own.
      assert.equal(protocolVersion, negotiatedVersion(clientSdk, serverSdk));
      assert.equal((wire.params as { protocolVersion?: unknown }).protocolVersion, clientSdk.LATEST_PROTOCOL_VERSION, 'the client asked for its latest');
      const clientSpan = one(parentSpans, 'initialize', SpanKind.CLIENT, 'this process');
      const serverSpan = one(childSpans, 'initialize', SpanKind.SERVER, 'the child');
      assert.deepEqual(clientSpan.attributes, {
        'mcp.method.name': 'initialize',
        'jsonrpc.request.id': String(wire.id),
        ...connectionAttributes('client'),
      });
      assert.deepEqual(serverSpan.attributes, {
        'mcp.method.name': 'initialize',
        'jsonrpc.request.id': String(wire.id),
        ...connectionAttributes('server'),
      });
      assert.equal(wire.id, 0);
      assertStatus(clientSpan, SpanStatusCode.UNSET);
      assertStatus(serverSpan, SpanStatusCode.UNSET);
      assertHop(clientSpan, serverSpan, wire);
      assert.equal(clientSpan.parentSpanId, undefined, 'initialize is a root span here');
    });

    test('notifications/initialized: spans on both sides, no request id, propagated', () => {
      const wire = oneSent(sent, 'notifications/initialized', (m) => m.method === 'notifications/initialized');
      const clientSpan = one(parentSpans, 'notifications/initialized', SpanKind.CLIENT, 'this process');
      const serverSpan = one(childSpans, 'notifications/initialized', SpanKind.SERVER, 'the child');
      assert.deepEqual(clientSpan.attributes, { 'mcp.method.name': 'notifications/initialized', ...connectionAttributes('client') });
      assert.deepEqual(serverSpan.attributes, { 'mcp.method.name': 'notifications/initialized', ...connectionAttributes('server') });
      assertStatus(clientSpan, SpanStatusCode.UNSET);
      assertStatus(serverSpan, SpanStatusCode.UNSET);
      assertHop(clientSpan, serverSpan, wire);
    });

    const cases: {
      span: string;
      method: string;
      match: (m: WireMessage) => boolean;
      attributes: Record<string, unknown>;
      errorType?: string;
    }[] = [
      {
        span: 'tools/call echo',
        method: 'tools/call',
        match: (m) => m.params?.name === 'echo',
        attributes: { 'gen_ai.tool.name': 'echo', 'gen_ai.operation.name': 'execute_tool' },
      },
      {
        span: 'tools/call soft-fail',
        method: 'tools/call',
        match: (m) => m.params?.name === 'soft-fail',
        attributes: { 'gen_ai.tool.name': 'soft-fail', 'gen_ai.operation.name': 'execute_tool' },
        errorType: 'tool_error',
      },
      {
        // McpServer turns the tool's exception into an `isError` result: a tool error, not a JSON-RPC one.
        span: 'tools/call fail',
        method: 'tools/call',
        match: (m) => m.params?.name === 'fail',
        attributes: { 'gen_ai.tool.name': 'fail', 'gen_ai.operation.name': 'execute_tool' },
        errorType: 'tool_error',
      },
      {
        span: 'prompts/get greet',
        method: 'prompts/get',
        match: (m) => m.params?.name === 'greet',
        attributes: { 'gen_ai.prompt.name': 'greet' },
      },
      {
        span: 'resources/read',
        method: 'resources/read',
        match: (m) => m.params?.uri === 'test://static',
        attributes: { 'mcp.resource.uri': 'test://static' },
      },
    ];

    for (const c of cases) {
      test(`${c.span}: exact attributes and status on both sides, child span parented by the CLIENT span`, () => {
        const wire = oneSent(sent, c.span, (m) => m.method === c.method && c.match(m));
        assert.equal(typeof wire.id, 'number');
        const clientSpan = one(parentSpans, c.span, SpanKind.CLIENT, 'this process');
        const serverSpan = one(childSpans, c.span, SpanKind.SERVER, 'the child');
        const error = c.errorType !== undefined ? { 'error.type': c.errorType } : {};
        const shared = { 'mcp.method.name': c.method, 'jsonrpc.request.id': String(wire.id), ...c.attributes, ...error };
        assert.deepEqual(clientSpan.attributes, { ...shared, ...connectionAttributes('client') });
        assert.deepEqual(serverSpan.attributes, { ...shared, ...connectionAttributes('server') });
        const status = c.errorType !== undefined ? SpanStatusCode.ERROR : SpanStatusCode.UNSET;
        assertStatus(clientSpan, status);
        assertStatus(serverSpan, status);
        assert.deepEqual(clientSpan.events, []);
        assert.deepEqual(serverSpan.events, []);
        assertHop(clientSpan, serverSpan, wire);
        assert.equal(clientSpan.parentSpanId, undefined, 'no active span around the call: a root span');
      });
    }

    test('sampling/createMessage from the server: CLIENT span in the child under its tools/call, SERVER span here under that', () => {
      const toolWire = oneSent(sent, 'tools/call ask-llm', (m) => m.method === 'tools/call' && m.params?.name === 'ask-llm');
      // This process answered the server's sampling request: the response's id is the server's request id.
      const answer = oneSent(sent, 'sampling response', (m) => m.method === undefined && m.result?.model === 'test-model');
      assert.equal(typeof answer.id, 'number');
      const samplingId = String(answer.id);

      const toolClient = one(parentSpans, 'tools/call ask-llm', SpanKind.CLIENT, 'this process');
      const toolServer = one(childSpans, 'tools/call ask-llm', SpanKind.SERVER, 'the child');
      const samplingClient = one(childSpans, 'sampling/createMessage', SpanKind.CLIENT, 'the child');
      const samplingServer = one(parentSpans, 'sampling/createMessage', SpanKind.SERVER, 'this process');

      assertHop(toolClient, toolServer, toolWire);
      assert.equal(samplingClient.traceId, toolServer.traceId);
      assert.equal(samplingClient.parentSpanId, toolServer.spanId, "the server's sampling span is a child of its tools/call span");
      assertHop(samplingClient, samplingServer, undefined);
      assert.equal(samplingServer.traceId, toolClient.traceId, 'the whole exchange is one trace');

      assert.deepEqual(samplingClient.attributes, {
        'mcp.method.name': 'sampling/createMessage',
        'jsonrpc.request.id': samplingId,
        ...connectionAttributes('server'),
      });
      assert.deepEqual(samplingServer.attributes, {
        'mcp.method.name': 'sampling/createMessage',
        'jsonrpc.request.id': samplingId,
        ...connectionAttributes('client'),
      });
      assertStatus(samplingClient, SpanStatusCode.UNSET);
      assertStatus(samplingServer, SpanStatusCode.UNSET);
      const toolAttributes = {
        'mcp.method.name': 'tools/call',
        'jsonrpc.request.id': String(toolWire.id),
        'gen_ai.tool.name': 'ask-llm',
        'gen_ai.operation.name': 'execute_tool',
      };
      assert.deepEqual(toolClient.attributes, { ...toolAttributes, ...connectionAttributes('client') });
      assert.deepEqual(toolServer.attributes, { ...toolAttributes, ...connectionAttributes('server') });
    });

    test('a handler error in this process (-32603) is an error on both sides of the server-initiated request', async () => {
      clientSdk.setRequestHandler(client, 'roots/list', async () => {
        throw new Error('no roots for you');
      });
      const mark = otel.spans().length;
      const result = await client.callTool({ name: 'list-roots', arguments: {} });
      // The server's tool turns the failed roots/list into a tool error.
      assert.equal(result.isError, true);
      const mine = otel.spans().slice(mark).map(toJson);
      const toolClient = one(mine, 'tools/call list-roots', SpanKind.CLIENT, 'this process');
      const rootsServer = one(mine, 'roots/list', SpanKind.SERVER, 'this process');
      const theirs = (
        await waitForChildSpans(
          (spans) => spans.some((s) => s.traceId === toolClient.traceId && s.name === 'tools/call list-roots'),
          'the child spans of list-roots',
        )
      ).filter((s) => s.traceId === toolClient.traceId);
      const toolServer = one(theirs, 'tools/call list-roots', SpanKind.SERVER, 'the child');
      const rootsClient = one(theirs, 'roots/list', SpanKind.CLIENT, 'the child');

      assertHop(toolClient, toolServer, undefined);
      assert.equal(rootsClient.parentSpanId, toolServer.spanId);
      assertHop(rootsClient, rootsServer, undefined);

      const rootsId = String(rootsServer.attributes['jsonrpc.request.id']);
      assert.match(rootsId, /^\d+$/);
      const rootsError = { 'mcp.method.name': 'roots/list', 'jsonrpc.request.id': rootsId, 'error.type': '-32603', 'rpc.response.status_code': '-32603' };
      assert.deepEqual(rootsServer.attributes, { ...rootsError, ...connectionAttributes('client') });
      assert.deepEqual(rootsClient.attributes, { ...rootsError, ...connectionAttributes('server') });
      assertStatus(rootsServer, SpanStatusCode.ERROR, 'no roots for you');
      assertStatus(rootsClient, SpanStatusCode.ERROR, 'no roots for you');
      assert.deepEqual(rootsServer.events, ['exception'], 'the handler exception is recorded where it was thrown');
      assert.deepEqual(rootsClient.events, []);

      assert.equal(toolClient.attributes['error.type'], 'tool_error');
      assert.equal(toolServer.attributes['error.type'], 'tool_error');
      assertStatus(toolClient, SpanStatusCode.ERROR);
      assertStatus(toolServer, SpanStatusCode.ERROR);
    });

    test('an unknown method (-32601) fails the CLIENT span; the SERVER span records the code without failing', async () => {
      const mark = otel.spans().length;
      await assert.rejects(clientSdk.request(client, 'no/such/method'), (error: { code?: unknown }) => {
        assert.equal(error.code, -32601);
        return true;
      });
      const wire = oneSent(sent, 'no/such/method', (m) => m.method === 'no/such/method');
      const clientSpan = one(otel.spans().slice(mark).map(toJson), 'no/such/method', SpanKind.CLIENT, 'this process');
      const serverSpan = one(
        (
          await waitForChildSpans((spans) => spans.some((s) => s.name === 'no/such/method'), 'the child span of no/such/method')
        ).filter((s) => s.traceId === clientSpan.traceId),
        'no/such/method',
        SpanKind.SERVER,
        'the child',
      );
      const shared = {
        'mcp.method.name': 'no/such/method',
        'jsonrpc.request.id': String(wire.id),
        'error.type': '-32601',
        'rpc.response.status_code': '-32601',
      };
      assert.deepEqual(clientSpan.attributes, { ...shared, ...connectionAttributes('client') });
      assert.deepEqual(serverSpan.attributes, { ...shared, ...connectionAttributes('server') });
      assertStatus(clientSpan, SpanStatusCode.ERROR, 'Method not found');
      assertStatus(serverSpan, SpanStatusCode.UNSET);
      assertHop(clientSpan, serverSpan, wire);
    });

    test(
      // SDKs 1.10–1.12 replace params._meta when onprogress is given; the instrumentation restores the keys.
      'a callTool with onprogress: the request still carries the trace context to the child',
      async () => {
        const mark = otel.spans().length;
        const progress: unknown[] = [];
        const result = await clientSdk.callTool(client, { name: 'progress', arguments: { steps: 2 } }, {
          onprogress: (p: unknown) => progress.push(p),
        });
        assert.deepEqual(result.content, [{ type: 'text', text: 'done 2' }]);
        const callClient = one(otel.spans().slice(mark).map(toJson), 'tools/call progress', SpanKind.CLIENT, 'this process');
        const wire = oneSent(sent, 'tools/call progress', (m) => m.method === 'tools/call' && m.params?.name === 'progress');
        const callServer = one(
          await waitForChildSpans((spans) => spans.some((s) => s.name === 'tools/call progress'), 'the child span of tools/call progress'),
          'tools/call progress',
          SpanKind.SERVER,
          'the child',
        );
        assert.equal(typeof wire.params?._meta?.progressToken, 'number');
        assertHop(callClient, callServer, wire);
      },
    );

    test("an application span around callTool: one trace from the app span through the CLIENT span to the child's SERVER span", async () => {
      const tracer = trace.getTracer('stdio-test-app');
      const mark = otel.spans().length;
      const text = `inside app-operation (${flavour})`;
      const result = await tracer.startActiveSpan('app-operation', async (span) => {
        try {
          return await client.callTool({ name: 'echo', arguments: { text } });
        } finally {
          span.end();
        }
      });
      assert.deepEqual(result.content, [{ type: 'text', text }]);
      const mine = otel.spans().slice(mark).map(toJson);
      const app = one(mine, 'app-operation', SpanKind.INTERNAL, 'this process');
      const callClient = one(mine, 'tools/call echo', SpanKind.CLIENT, 'this process');
      assert.equal(app.parentSpanId, undefined, 'the app span is the root');
      assert.equal(callClient.traceId, app.traceId);
      assert.equal(callClient.parentSpanId, app.spanId);
      const wire = oneSent(sent, 'the echo call in app-operation', (m) => m.method === 'tools/call' && m.params?.arguments?.text === text);
      const theirs = (
        await waitForChildSpans((spans) => spans.some((s) => s.traceId === app.traceId), 'the child span of the app call')
      ).filter((s) => s.traceId === app.traceId);
      const callServer = one(theirs, 'tools/call echo', SpanKind.SERVER, 'the child');
      assertHop(callClient, callServer, wire);
      // Exactly these three spans make up the trace, across both processes.
      assert.deepEqual(
        [...mine, ...theirs].filter((s) => s.traceId === app.traceId).map((s) => `${SpanKind[s.kind]} ${s.name}`).sort(),
        ['CLIENT tools/call echo', 'INTERNAL app-operation', 'SERVER tools/call echo'],
      );
    });

    test("the instrumented child's stdout carries nothing but JSON-RPC", async () => {
      const rawDir = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-stdout-${flavour}-`));
      const rawSpanFile = path.join(rawDir, 'spans.jsonl');
      const child = spawn(process.execPath, serverArgs(flavour), {
        env: serverEnv({ SPAN_FILE: rawSpanFile }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      try {
        let stdout = '';
        let childStderr = '';
        const messages: WireMessage[] = [];
        const write = (message: object): void => {
          child.stdin.write(`${JSON.stringify(message)}\n`);
        };
        child.stderr.on('data', (chunk: Buffer) => (childStderr += chunk.toString('utf8')));
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
          // Parse complete lines as they come, to answer the server's requests and see responses.
          const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
          const lines = complete.split('\n').filter((l) => l !== '');
          for (const line of lines.slice(messages.length)) {
            let message: WireMessage;
            try {
              message = JSON.parse(line) as WireMessage;
            } catch {
              message = { jsonrpc: 'not json' };
            }
            messages.push(message);
            if (message.method === 'sampling/createMessage' && message.id !== undefined) {
              write({ jsonrpc: '2.0', id: message.id, result: { model: 'raw', role: 'assistant', content: { type: 'text', text: 'raw' } } });
            }
          }
        });
        const call = async (id: number, method: string, params?: object): Promise<void> => {
          write({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) });
          await waitFor(() => messages.some((m) => m.id === id && m.method === undefined), SPAN_WAIT_MS, `response ${id} (stderr: ${childStderr})`);
        };

        await call(1, 'initialize', {
          protocolVersion: serverSdk.LATEST_PROTOCOL_VERSION,
          capabilities: { sampling: {} },
          clientInfo: { name: 'raw-client', version: '0.0.1' },
        });
        write({ jsonrpc: '2.0', method: 'notifications/initialized' });
        await call(2, 'tools/call', { name: 'echo', arguments: { text: 'raw' } });
        await call(3, 'tools/call', { name: 'log', arguments: {} });
        await call(4, 'tools/call', { name: 'ask-llm', arguments: {} });
        await call(5, 'tools/call', { name: 'fail', arguments: {} });
        await call(6, 'no/such/method', {});
        child.stdin.end();
        const exit = await waitForExit(child, CHILD_EXIT_MS);
        assert.deepEqual(exit, { code: 0, signal: null }, `child exit (stderr: ${childStderr})`);

        assert.ok(stdout.endsWith('\n'), 'stdout ends with a complete line');
        const lines = stdout.split('\n').slice(0, -1);
        for (const line of lines) {
          let parsed: unknown;
          assert.doesNotThrow(() => (parsed = JSON.parse(line)), `stdout line is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
          assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), `stdout line is not a JSON object: ${line}`);
          assert.equal((parsed as { jsonrpc?: unknown }).jsonrpc, '2.0', `stdout line is not JSON-RPC 2.0: ${line}`);
        }
        // Every response came, plus the server's own notification and request, and nothing else.
        assert.deepEqual(
          lines.map((l) => JSON.parse(l) as WireMessage).map((m) => m.method ?? `response ${String(m.id)}`).sort(),
          ['notifications/message', 'response 1', 'response 2', 'response 3', 'response 4', 'response 5', 'response 6', 'sampling/createMessage'],
        );
        // The child was instrumented while it wrote that stdout.
        const spans = readChildSpans(rawSpanFile);
        assert.equal(spans.filter((s) => s.name === 'tools/call echo' && s.kind === SpanKind.SERVER).length, 1);
        assert.equal(spans.filter((s) => s.name === 'sampling/createMessage' && s.kind === SpanKind.CLIENT).length, 1);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await waitForExit(child, CHILD_EXIT_MS);
        }
        fs.rmSync(rawDir, { recursive: true, force: true });
      }
    });
  });
}
