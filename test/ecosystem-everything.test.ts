/*
 * An MCP server nobody here wrote, unmodified: `@modelcontextprotocol/server-everything` from npm (ESM),
 * started under `node --import opentelemetry-instrumentation-mcp/register` in its stdio mode and in its
 * Streamable HTTP mode, exporting OTLP/HTTP JSON to a loopback receiver this test runs. This process is
 * the client — the SDK client, instrumented here — and drives a realistic session: list and call tools
 * (successes and a tool error), list and read resources, list and get prompts (one unknown), set the
 * log level, ping.
 *
 * Checked: every request the client sent has exactly one SERVER span in the server process, with the
 * exact name, `mcp.method.name`, target, `jsonrpc.request.id` equal to the id on the wire, transport
 * attributes, and as parent this process's CLIENT span of that request (one trace across the two
 * processes); `mcp.server.operation.duration` arrives with the per-tool counts of the session; over
 * stdio, every byte the server wrote to stdout is JSON-RPC, and the JSON-line log is on stderr.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind, trace } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { parentSpanIdOf, setupOtel, type FinishedSpan } from './helpers/otel';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedMetricPoint, type ReceivedSpan } from './helpers/otlp-receiver';
import { fileUrl, REPO_ROOT, sdk } from './helpers/sdk';
import { freePort } from './helpers/net';
import { exitOrTerminate, killChildren, otlpChildEnv, startNode, type NodeChild } from './helpers/process';
import { v1Only } from './helpers/mcp';

/** On MCP_SDK_MAJOR=2 this file skips: @modelcontextprotocol/server-everything runs its own 1.x SDK, and the client here is the repository's 1.x. */
const V1_ONLY = v1Only('@modelcontextprotocol/server-everything runs its own 1.x SDK, and the client here is the repository\'s 1.x');

const otel = setupOtel();
new McpInstrumentation();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const { Client } = sdk('client/index.js');
const { StreamableHTTPClientTransport } = sdk('client/streamableHttp.js');
const { LATEST_PROTOCOL_VERSION } = sdk('types.js') as { LATEST_PROTOCOL_VERSION: string };

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js', { paths: [REPO_ROOT] });
const CLIENT_NAME = 'ecosystem-test-client';
const WAIT_MS = 20_000;
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

after(killChildren);

// ---------------------------------------------------------------------------------------------
// A stdio client transport over a child this test spawned itself, so that every stdout byte is seen.

interface JsonRpcMessage {
  jsonrpc?: unknown;
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

class ChildStdioTransport {
  onmessage?: (message: unknown) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** Every message this side sent, in order. */
  readonly sent: JsonRpcMessage[] = [];
  private pending = Buffer.alloc(0);
  private closed = false;

  constructor(private readonly child: NodeChild) {}

  async start(): Promise<void> {
    this.child.proc.stdout!.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      let newline: number;
      while ((newline = this.pending.indexOf(0x0a)) !== -1) {
        const line = this.pending.subarray(0, newline).toString('utf8');
        this.pending = this.pending.subarray(newline + 1);
        try {
          this.onmessage?.(JSON.parse(line));
        } catch (error) {
          this.onerror?.(error as Error);
        }
      }
    });
    void this.child.exited.then(() => this.close());
  }

  async send(message: JsonRpcMessage): Promise<void> {
    this.sent.push(message);
    this.child.proc.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.child.proc.stdin!.end();
    this.onclose?.();
  }
}

// ---------------------------------------------------------------------------------------------
// The session

interface Expected {
  method: string;
  /** Exact span name. */
  name: string;
  tool?: string;
  prompt?: string;
  uri?: string;
  /** `error.type`, for a failed operation. */
  errorType?: string;
  /** The JSON-RPC error code of an error response. */
  code?: number;
  /** Whether the SERVER span's status is ERROR. */
  statusError?: boolean;
}

const STATIC_DOC = 'demo://resource/static/document/architecture.md';
const DYNAMIC_TEXT = 'demo://resource/dynamic/text/7';

/** The requests after `initialize`, in the order the session sends them. */
const SESSION: Expected[] = [
  { method: 'tools/list', name: 'tools/list' },
  { method: 'tools/call', name: 'tools/call echo', tool: 'echo' },
  { method: 'tools/call', name: 'tools/call echo', tool: 'echo' },
  { method: 'tools/call', name: 'tools/call get-sum', tool: 'get-sum' },
  { method: 'tools/call', name: 'tools/call echo', tool: 'echo' },
  { method: 'tools/call', name: 'tools/call get-sum', tool: 'get-sum' },
  { method: 'tools/call', name: 'tools/call get-sum', tool: 'get-sum', errorType: 'tool_error', statusError: true },
  { method: 'resources/list', name: 'resources/list' },
  { method: 'resources/templates/list', name: 'resources/templates/list' },
  { method: 'resources/read', name: 'resources/read', uri: STATIC_DOC },
  { method: 'resources/read', name: 'resources/read', uri: DYNAMIC_TEXT },
  { method: 'prompts/list', name: 'prompts/list' },
  { method: 'prompts/get', name: 'prompts/get simple-prompt', prompt: 'simple-prompt' },
  { method: 'prompts/get', name: 'prompts/get args-prompt', prompt: 'args-prompt' },
  // The caller's fault: the server span records the code but is not an error.
  { method: 'prompts/get', name: 'prompts/get no-such-prompt', prompt: 'no-such-prompt', errorType: '-32602', code: -32602, statusError: false },
  { method: 'logging/setLevel', name: 'logging/setLevel' },
  { method: 'ping', name: 'ping' },
];

/** `tools/call` outcomes of the session, as the per-tool chart counts them: `tool|error.type` → calls. */
const TOOL_CALLS: Record<string, number> = { 'echo|': 3, 'get-sum|': 2, 'get-sum|tool_error': 1 };

async function runSession(client: Any): Promise<void> {
  const tools = (await client.listTools()).tools.map((t: { name: string }) => t.name);
  assert.ok(tools.includes('echo') && tools.includes('get-sum'), `tools: ${tools.join(', ')}`);
  const text = (result: Any): string => result.content[0].text;
  assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'one' } })), 'Echo: one');
  assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'two' } })), 'Echo: two');
  assert.equal(text(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })), 'The sum of 2 and 3 is 5.');
  assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'three' } })), 'Echo: three');
  assert.equal(text(await client.callTool({ name: 'get-sum', arguments: { a: -1, b: 1 } })), 'The sum of -1 and 1 is 0.');
  const invalid = await client.callTool({ name: 'get-sum', arguments: { a: 'x', b: 1 } });
  assert.equal(invalid.isError, true, 'get-sum with a string argument is a tool error');
  const resources = (await client.listResources()).resources.map((r: { uri: string }) => r.uri);
  assert.ok(resources.includes(STATIC_DOC), `resources: ${resources.join(', ')}`);
  await client.listResourceTemplates();
  assert.equal((await client.readResource({ uri: STATIC_DOC })).contents[0].uri, STATIC_DOC);
  assert.equal((await client.readResource({ uri: DYNAMIC_TEXT })).contents[0].uri, DYNAMIC_TEXT);
  await client.listPrompts();
  await client.getPrompt({ name: 'simple-prompt' });
  const args = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris' } });
  assert.match(args.messages[0].content.text, /Paris/);
  await assert.rejects(client.getPrompt({ name: 'no-such-prompt' }), (error: Any) => error.code === -32602);
  await client.setLoggingLevel('info');
  await client.ping();
}

// ---------------------------------------------------------------------------------------------
// Assertions

/** This process's spans of one session (the two tests run side by side: each session is a trace of its own). */
function sessionSpans(traceId: string): FinishedSpan[] {
  return otel.spans().filter((s) => s.spanContext().traceId === traceId);
}

/** Runs `work` inside a root span; returns the trace id. */
async function inRootSpan(name: string, work: () => Promise<void>): Promise<string> {
  return trace.getTracer('ecosystem-test').startActiveSpan(name, async (root) => {
    try {
      await work();
    } finally {
      root.end();
    }
    return root.spanContext().traceId;
  });
}

function clientSpanOf(run: ServerRun, method: string, requestId: string): FinishedSpan {
  const found = sessionSpans(run.traceId).filter(
    (s) => s.kind === SpanKind.CLIENT && s.attributes['mcp.method.name'] === method && s.attributes['jsonrpc.request.id'] === requestId,
  );
  assert.equal(found.length, 1, `one CLIENT span of ${method} #${requestId} in this process`);
  return found[0]!;
}

interface ServerRun {
  transport: 'pipe' | 'tcp';
  serviceName: string;
  /** Every request the client put on the wire, in order (ids included). */
  requests: JsonRpcMessage[];
  sessionId: string | undefined;
  /** The trace of the session (its root span is in this process). */
  traceId: string;
}

function assertServerSpans(receiver: OtlpReceiver, run: ServerRun): void {
  const spans = receiver.spans();
  assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'each span exported once');
  for (const span of spans) {
    assert.equal(span.scope, PACKAGE.name, `${span.kind} ${span.name}: only MCP spans in this server`);
    assert.equal(span.scopeVersion, PACKAGE.version);
    assert.equal(span.resource['service.name'], run.serviceName);
  }
  const expected: Expected[] = [{ method: 'initialize', name: 'initialize' }, ...SESSION];
  assert.deepEqual(
    run.requests.map((m) => m.method),
    expected.map((e) => e.method),
    'the requests the client sent',
  );
  const serverRequests = spans.filter((s) => s.kind === 'SERVER' && s.attributes['jsonrpc.request.id'] !== undefined);
  assert.deepEqual(
    serverRequests.map((s) => s.attributes['jsonrpc.request.id']).sort(),
    run.requests.map((m) => String(m.id)).sort(),
    'exactly one SERVER span per request, with the id from the wire',
  );
  run.requests.forEach((message, index) => {
    const want = expected[index]!;
    const id = String(message.id);
    const server = serverRequests.find((s) => s.attributes['jsonrpc.request.id'] === id)!;
    const client = clientSpanOf(run, want.method, id);
    const where = `${want.name} #${id}`;
    assert.equal(server.name, want.name, where);
    assert.equal(server.kind, 'SERVER', where);
    assert.equal(client.name, want.name, where);
    assert.equal(server.traceId, client.spanContext().traceId, `${where}: the client's trace continues in the server`);
    assert.equal(server.parentSpanId, client.spanContext().spanId, `${where}: the SERVER span is the child of this process's CLIENT span`);
    const a = server.attributes;
    assert.equal(a['mcp.method.name'], want.method, where);
    assert.equal(a['network.transport'], run.transport, where);
    assert.equal(a['mcp.protocol.version'], LATEST_PROTOCOL_VERSION, where);
    assert.equal(a['gen_ai.tool.name'], want.tool, where);
    assert.equal(a['gen_ai.operation.name'], want.tool !== undefined ? 'execute_tool' : undefined, where);
    assert.equal(a['gen_ai.prompt.name'], want.prompt, where);
    assert.equal(a['mcp.resource.uri'], want.uri, where);
    assert.equal(a['error.type'], want.errorType, where);
    assert.equal(a['rpc.response.status_code'], want.code !== undefined ? String(want.code) : undefined, where);
    assert.equal(server.statusCode, want.statusError === true ? 2 : 0, `${where}: status`);
    assert.equal(a['mcp.session.id'], run.sessionId, where);
    assert.equal(a['mcp.client.name'], CLIENT_NAME, where);
    if (run.transport === 'tcp') {
      assert.equal(a['network.protocol.name'], 'http', where);
      assert.equal(a['network.protocol.version'], '1.1', where);
      // The server listens on all interfaces: a dual-stack socket reports the IPv4-mapped address.
      assert.ok(['127.0.0.1', '::ffff:127.0.0.1'].includes(a['client.address'] as string), `${where}: client.address ${String(a['client.address'])}`);
      assert.equal(typeof a['client.port'], 'number', where);
    }
  });

  // Notifications: the client's `notifications/initialized`, and what the server sent by itself.
  const initialized = spans.filter((s) => s.name === 'notifications/initialized');
  assert.equal(initialized.length, 1, 'one notifications/initialized');
  for (const span of spans) assert.equal(span.traceId, run.traceId, `${span.kind} ${span.name}: one trace, from this process's root span`);
  const clientInitialized = sessionSpans(run.traceId).filter((s) => s.kind === SpanKind.CLIENT && s.name === 'notifications/initialized');
  assert.equal(clientInitialized.length, 1);
  assert.equal(initialized[0]!.kind, 'SERVER');
  assert.equal(initialized[0]!.parentSpanId, clientInitialized[0]!.spanContext().spanId);
  assert.equal(initialized[0]!.attributes['jsonrpc.request.id'], undefined);
  const sentByServer = spans.filter((s) => s.kind === 'CLIENT');
  assert.ok(sentByServer.length > 0, 'server-everything announces the tools it registers after initialization');
  for (const span of sentByServer) {
    assert.equal(span.name, 'notifications/tools/list_changed');
    // Sent while it handled `notifications/initialized`: a child of that SERVER span.
    assert.equal(span.parentSpanId, initialized[0]!.spanId, 'sent from the notifications/initialized handler');
  }
  assert.equal(spans.length, run.requests.length + 1 + sentByServer.length, 'no other span');
  // Those that reached this process continue the server's trace into this process.
  const received = sessionSpans(run.traceId).filter((s) => s.kind === SpanKind.SERVER);
  const sentIds = new Set(sentByServer.map((s) => s.spanId));
  for (const span of received) {
    assert.equal(span.name, 'notifications/tools/list_changed');
    assert.ok(sentIds.has(parentSpanIdOf(span)!), 'the client-side SERVER span is the child of the server-side CLIENT span');
  }
  if (run.transport === 'pipe') assert.equal(received.length, sentByServer.length, 'over stdio every notification arrives');
}

/** The series of `mcp.server.operation.duration` in its last export: cumulative, so the session's totals. */
function lastExport(receiver: OtlpReceiver, metric: string): ReceivedMetricPoint[] {
  const points = receiver.metricPoints(metric);
  const last = Math.max(...points.map((p) => p.exportIndex));
  return points.filter((p) => p.exportIndex === last);
}

function toolCounts(points: ReceivedMetricPoint[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of points) {
    if (p.attributes['mcp.method.name'] !== 'tools/call') continue;
    const key = `${String(p.attributes['gen_ai.tool.name'])}|${String(p.attributes['error.type'] ?? '')}`;
    counts[key] = (counts[key] ?? 0) + (p.count ?? 0);
  }
  return counts;
}

function assertMetrics(receiver: OtlpReceiver, run: ServerRun): void {
  const points = lastExport(receiver, 'mcp.server.operation.duration');
  assert.deepEqual(toolCounts(points), TOOL_CALLS, 'calls per tool and outcome');
  const byMethod: Record<string, number> = {};
  for (const p of points) byMethod[p.attributes['mcp.method.name'] as string] = (byMethod[p.attributes['mcp.method.name'] as string] ?? 0) + p.count!;
  const wanted: Record<string, number> = { initialize: 1, 'notifications/initialized': 1 };
  for (const e of SESSION) wanted[e.method] = (wanted[e.method] ?? 0) + 1;
  assert.deepEqual(byMethod, wanted, 'operations per method');
  for (const p of points) {
    assert.equal(p.type, 'histogram');
    assert.equal(p.unit, 's');
    assert.deepEqual(p.bounds, DURATION_BUCKETS);
    assert.equal(p.scope, PACKAGE.name);
    assert.equal(p.resource['service.name'], run.serviceName);
    assert.equal(p.attributes['network.transport'], run.transport);
    for (const key of ['jsonrpc.request.id', 'mcp.session.id', 'mcp.resource.uri']) assert.equal(p.attributes[key], undefined, `${key} is never on metrics`);
  }
  const unknownPrompt = points.filter((p) => p.attributes['mcp.method.name'] === 'prompts/get' && p.attributes['error.type'] === '-32602');
  assert.deepEqual(
    unknownPrompt.map((p) => [p.attributes['gen_ai.prompt.name'], p.count]),
    [['_OTHER', 1]],
    'a prompt name the peer made up is _OTHER on metrics',
  );
}

const REGISTER_MJS = fileUrl(join(REPO_ROOT, 'build', 'src', 'register.mjs'));

/**
 * Starts server-everything in Streamable HTTP mode under `preload` on a free port (it listens on
 * PORT, all interfaces; this test connects to 127.0.0.1). A port taken between freePort() and the
 * server's listen() makes it exit: then another is tried.
 */
async function startEverythingHttp(preload: string[], env: NodeJS.ProcessEnv): Promise<{ child: NodeChild; port: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = startNode([...preload, EVERYTHING, 'streamableHttp'], { ...env, PORT: String(port) });
    const listening = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`server-everything is not listening after ${WAIT_MS} ms; stderr:\n${child.stderr()}`));
      }, WAIT_MS);
      const poll = setInterval(() => {
        if (child.stderr().includes(`listening on port ${port}`)) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(true);
        }
      }, 20);
      void child.exited.then(() => {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (listening) return { child, port };
    assert.match(child.stderr(), /already in use/, `server-everything exited: ${child.stderr()}`);
  }
  throw new Error('no free port for server-everything');
}

/**
 * Connects an SDK client (instrumented in this process) over Streamable HTTP, runs `session` inside a
 * root span, terminates the session and closes. Returns the requests sent (with their wire ids).
 */
async function httpSession(
  port: number,
  name: string,
  session: (client: Any) => Promise<void>,
): Promise<{ requests: JsonRpcMessage[]; sessionId: string; traceId: string }> {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`));
  const requests: JsonRpcMessage[] = [];
  const send = transport.send.bind(transport);
  transport.send = (message: JsonRpcMessage, options?: unknown) => {
    if (message.id !== undefined && message.method !== undefined) requests.push(message);
    return send(message, options);
  };
  const client = new Client({ name: CLIENT_NAME, version: '1.0.0' });
  let sessionId = '';
  const traceId = await inRootSpan(name, async () => {
    await client.connect(transport);
    sessionId = transport.sessionId as string;
    await session(client);
  });
  assert.match(sessionId, /^[0-9a-f-]{36}$/, 'the server gave a session id');
  await transport.terminateSession();
  await client.close();
  return { requests, sessionId, traceId };
}

// ---------------------------------------------------------------------------------------------

describe('server-everything, unmodified, under the preload', { concurrency: true, skip: V1_ONLY }, () => {
  test('stdio: one SERVER span per request continuing the client trace, per-tool metrics, stdout pure JSON-RPC', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const serviceName = 'everything-stdio';
      // By the package name, from the repository root, as a host would write it.
      const child = startNode(
        ['--import', `${PACKAGE.name}/register`, EVERYTHING, 'stdio'],
        otlpChildEnv(receiver.endpoint, { OTEL_SERVICE_NAME: serviceName, OTEL_LOG_LEVEL: 'debug' }),
      );
      const transport = new ChildStdioTransport(child);
      const client = new Client({ name: CLIENT_NAME, version: '1.0.0' });
      const traceId = await inRootSpan('session over stdio', async () => {
        await client.connect(transport);
        await runSession(client);
      });
      await client.close(); // ends the server's stdin: it exits, its preload flushes on the way out
      const exit = await exitOrTerminate(child, 10_000, WAIT_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, `the server exits by itself, code 0; stderr:\n${child.stderr()}`);

      // Every stdout byte: newline-terminated JSON-RPC 2.0 messages, nothing else.
      const stdout = child.stdoutText();
      assert.ok(stdout.endsWith('\n'), 'stdout ends with a complete line');
      const lines = stdout.slice(0, -1).split('\n');
      const messages = lines.map((line, i) => {
        let parsed: JsonRpcMessage;
        try {
          parsed = JSON.parse(line) as JsonRpcMessage;
        } catch {
          assert.fail(`stdout line ${i + 1} is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
        }
        assert.equal(parsed.jsonrpc, '2.0', `stdout line ${i + 1} is JSON-RPC 2.0`);
        return parsed;
      });
      const requests = transport.sent.filter((m) => m.id !== undefined && m.method !== undefined);
      const responses = messages.filter((m) => m.id !== undefined && m.method === undefined);
      assert.deepEqual(
        responses.map((m) => m.id),
        requests.map((m) => m.id),
        'one response per request, in order',
      );
      assert.equal(responses[0]!.result!.protocolVersion, LATEST_PROTOCOL_VERSION, 'negotiated protocol version');
      assert.deepEqual(
        [...new Set(messages.filter((m) => m.method !== undefined).map((m) => m.method))],
        ['notifications/tools/list_changed'],
        'the only other messages: the server announcing its tools',
      );

      await receiver.waitFor(
        () => receiver.spans().filter((s) => s.kind === 'SERVER').length >= requests.length + 1,
        WAIT_MS,
        'the server spans',
      );
      const run: ServerRun = { transport: 'pipe', serviceName, requests, sessionId: undefined, traceId };
      assertServerSpans(receiver, run);
      assertMetrics(receiver, run);

      // The JSON-line log (OTEL_INSTRUMENTATION_MCP_LOG defaults to stderr): one line per server operation.
      const logLines = child
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('{"ts":'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const serverCalls = logLines.filter((l) => l.side === 'server' && l.method === 'tools/call');
      const spanIds = new Map(receiver.spans().map((s) => [s.spanId, s]));
      assert.deepEqual(
        serverCalls.map((l) => [l.tool, l.request_id, l.ok]).sort(),
        requests
          .map((m, i) => [m, [{ method: 'initialize' }, ...SESSION][i]!] as const)
          .filter(([m]) => m.method === 'tools/call')
          .map(([m, want]) => [m.params!.name, String(m.id), (want as Expected).errorType === undefined])
          .sort(),
        'one log line per tool call, with its request id and outcome',
      );
      for (const line of serverCalls) assert.equal(spanIds.get(line.span_id as string)?.traceId, line.trace_id, 'log lines name their span');
    } finally {
      await receiver.close();
    }
  });

  test('Streamable HTTP (loopback port): the same session, with session id, client address and HTTP version', async () => {
    const receiver = await startOtlpReceiver();
    let child: NodeChild | undefined;
    try {
      const serviceName = 'everything-http';
      const server = await startEverythingHttp(['--import', REGISTER_MJS], otlpChildEnv(receiver.endpoint, { OTEL_SERVICE_NAME: serviceName }));
      child = server.child;
      const { requests, sessionId, traceId } = await httpSession(server.port, 'session over Streamable HTTP', runSession);
      await receiver.waitFor(
        () => receiver.spans().filter((s) => s.kind === 'SERVER').length >= requests.length + 1,
        WAIT_MS,
        'the server spans',
      );
      child.proc.kill('SIGTERM');
      const exit = await exitOrTerminate(child, WAIT_MS, WAIT_MS);
      // No SIGTERM handler of its own: the preload flushes, then the signal ends it as it would have.
      assert.deepEqual(exit, { code: null, signal: 'SIGTERM' }, `stderr:\n${child.stderr()}`);
      const run: ServerRun = { transport: 'tcp', serviceName, requests, sessionId, traceId };
      assertServerSpans(receiver, run);
      assertMetrics(receiver, run);
      const sessions = lastExport(receiver, 'mcp.server.session.duration');
      assert.deepEqual(
        sessions.map((p) => [p.attributes['network.transport'], p.attributes['error.type'], p.count]),
        [['tcp', undefined, 1]],
        'the terminated session was measured once',
      );
    } finally {
      child?.proc.kill('SIGKILL');
      await receiver.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Next to @opentelemetry/auto-instrumentations-node (its `register` starts a NodeSDK of its own).

const AUTO_REGISTER = '@opentelemetry/auto-instrumentations-node/register';
const NOTICE_PREFIX = `${PACKAGE.name}/register:`;

async function shortSession(client: Any): Promise<void> {
  await client.callTool({ name: 'echo', arguments: { message: 'a' } });
  await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  await client.callTool({ name: 'echo', arguments: { message: 'b' } });
}

/** A resource as one comparable string. */
function resourceKey(resource: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(resource).sort().map((key) => [key, resource[key]]));
}

function httpMethodOf(span: { attributes: Record<string, unknown> }): unknown {
  return span.attributes['http.request.method'] ?? span.attributes['http.method'];
}

describe('next to @opentelemetry/auto-instrumentations-node, in either order: one SDK, no duplicate spans', { concurrency: true, skip: V1_ONLY }, () => {
  const ORDERS = [
    {
      // (Loaded with --require instead, Node would run auto-instrumentations' register a second time in
      // the module-hooks thread the preload's loader hook starts: a second SDK that is not ours to stop.)
      name: 'auto-instrumentations first, the preload second (both --import): McpInstrumentation joins its SDK',
      preload: ['--import', AUTO_REGISTER, '--import', REGISTER_MJS],
      notices: [] as string[],
    },
    {
      name: 'the preload first, auto-instrumentations second (both --import): its NodeSDK joins the preload SDK',
      preload: ['--import', REGISTER_MJS, '--import', AUTO_REGISTER],
      notices: [
        `${NOTICE_PREFIX} another OpenTelemetry NodeSDK was started after this preload: its instrumentations report through the preload's SDK; its own providers and exporters are not started`,
      ],
    },
  ];
  for (const order of ORDERS) {
    test(order.name, async () => {
      const receiver = await startOtlpReceiver();
      let child: NodeChild | undefined;
      try {
        const serviceName = 'everything-auto';
        const server = await startEverythingHttp(
          order.preload,
          otlpChildEnv(receiver.endpoint, {
            OTEL_SERVICE_NAME: serviceName,
            // A random service.instance.id per SDK: two SDKs would show as two resources. No cloud
            // detectors (they would probe metadata endpoints).
            OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance',
          }),
        );
        child = server.child;
        const { requests, traceId } = await httpSession(server.port, `auto: ${order.name}`, shortSession);
        assert.deepEqual(
          requests.map((m) => `${m.method} ${String(m.params?.name ?? '')}`.trim()),
          ['initialize', 'tools/call echo', 'tools/call get-sum', 'tools/call echo'],
        );
        const toolCounts = (): Record<string, number> => {
          const points = receiver.metricPoints('mcp.server.operation.duration');
          if (points.length === 0) return {};
          const last = Math.max(...points.map((p) => p.exportIndex));
          return Object.fromEntries(
            points
              .filter((p) => p.exportIndex === last && p.attributes['mcp.method.name'] === 'tools/call')
              .map((p) => [p.attributes['gen_ai.tool.name'], p.count]),
          );
        };
        const httpServerSpans = (): ReceivedSpan[] =>
          receiver.spans().filter((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 'SERVER');
        // The server keeps running (auto-instrumentations' SIGTERM listener keeps it alive, upstream
        // behaviour): wait for the periodic exports instead of a final flush.
        await receiver.waitFor(
          () =>
            receiver.spans().filter((s) => s.scope === PACKAGE.name && s.kind === 'SERVER').length >= requests.length + 1 &&
            httpServerSpans().filter((s) => httpMethodOf(s) === 'POST').length >= requests.length + 1 &&
            JSON.stringify(toolCounts()) === JSON.stringify({ echo: 2, 'get-sum': 1 }),
          WAIT_MS,
          'MCP spans, HTTP spans and tool metrics',
        );
        // A little longer than two metric periods and a span batch: a second pipeline would show now.
        await new Promise((resolve) => setTimeout(resolve, 600));

        const spans = receiver.spans();
        assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no span exported twice');
        const resources = new Set([...spans.map((s) => resourceKey(s.resource)), ...receiver.metricPoints().map((p) => resourceKey(p.resource))]);
        assert.equal(resources.size, 1, `one SDK: every span and metric from one resource; got ${[...resources].join('\n')}`);
        const mcpServer = spans.filter((s) => s.scope === PACKAGE.name && s.kind === 'SERVER');
        assert.deepEqual(
          mcpServer.map((s) => `${s.name} ${String(s.attributes['jsonrpc.request.id'] ?? '-')}`).sort(),
          [...requests.map((m) => `${m.method === 'tools/call' ? `tools/call ${String(m.params!.name)}` : m.method} ${String(m.id)}`), 'notifications/initialized -'].sort(),
          'exactly one MCP SERVER span per message the client sent',
        );
        const httpSpanIds = new Set(spans.filter((s) => s.scope !== PACKAGE.name).map((s) => s.spanId));
        for (const span of mcpServer) {
          assert.equal(span.traceId, traceId, `${span.name}: continues the client's trace`);
          const client = sessionSpans(traceId).find(
            (c) => c.kind === SpanKind.CLIENT && c.name === span.name && c.attributes['jsonrpc.request.id'] === span.attributes['jsonrpc.request.id'],
          );
          assert.equal(span.parentSpanId, client?.spanContext().spanId, `${span.name}: child of this process's CLIENT span`);
          assert.equal(span.links.length, 1, `${span.name}: links the HTTP request that carried it`);
          assert.ok(httpSpanIds.has(span.links[0]!.spanId), `${span.name}: the linked span is auto-instrumentations', in the same export`);
        }
        assert.equal(
          httpServerSpans().filter((s) => httpMethodOf(s) === 'POST').length,
          requests.length + 1,
          'one instrumentation-http SERVER span per POST',
        );
        assert.deepEqual(toolCounts(), { echo: 2, 'get-sum': 1 }, 'mcp.server.operation.duration per tool, counted once');
        assert.deepEqual(
          child
            .stderr()
            .split('\n')
            .filter((line) => line.startsWith(NOTICE_PREFIX)),
          order.notices,
          'what the preload reported on stderr',
        );
      } finally {
        child?.proc.kill('SIGKILL');
        await receiver.close();
      }
    });
  }
});
