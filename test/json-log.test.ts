/*
 * The log bridge: JsonLogSpanProcessor writes one JSON line per MCP span. Exact fields for each
 * outcome, against the spans an in-memory exporter saw; the destinations (a file, standard error of
 * a child process, standard output refused); whole lines under 10,000 concurrent operations and
 * across rotated files; the synchronous flush at `process.exit()`; destination errors; and the log's
 * independence from trace sampling through McpRecordingSampler.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { context, diag, DiagLogLevel, SpanKind, type Attributes, type HrTime } from '@opentelemetry/api';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation, McpRecordingSampler } from '../src';
import { JsonLogSpanProcessor, StdoutDestinationError, type JsonLogOptions } from '../src/json-log';
import { PACKAGE_NAME } from '../src/version';
import { cleanEnv, echoCall, INITIALIZE, INITIALIZED, killChildren, startChild } from './helpers/child';
import { connectScenario, mcpSdk, type ScenarioSession } from './helpers/mcp';
import { only, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';
import { childEnv, fixture, REPO_ROOT } from './helpers/sdk';

const otel = setupOtel();
const instrumentation = new McpInstrumentation();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require('../../test/fixtures/scenario.cjs');

/* eslint-disable @typescript-eslint/no-explicit-any */
const mcp = mcpSdk();
const { InMemoryTransport } = mcp;

// Compile-time proof: a SpanProcessor of the SDK line under test (2.x or 3.x), without importing it.
const asSdkProcessor = (p: JsonLogSpanProcessor): sdkTrace.SpanProcessor => p;
void asSdkProcessor;

const CHILD_TIMEOUT_MS = 60_000;

/** One parsed log line. */
type LogLine = Record<string, unknown>;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-json-log-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A new empty directory for one test. */
function freshDir(): string {
  return fs.mkdtempSync(path.join(tmpRoot, 't-'));
}

/** Parses a log's text: every line whole JSON, the text ending in a newline. */
function parseLog(text: string, where = 'log'): LogLine[] {
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `${where} ends with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new assert.AssertionError({ message: `${where} line ${i + 1} is not whole JSON: ${line.slice(0, 200)}` });
      }
    });
}

function readLog(file: string): LogLine[] {
  return parseLog(fs.readFileSync(file, 'utf8'), file);
}

function hrMs(time: HrTime): number {
  return time[0] * 1e3 + time[1] / 1e6;
}

function isMcp(span: FinishedSpan): boolean {
  return span.instrumentationScope.name === PACKAGE_NAME;
}

/** The fields of a line that come from the span's identity and clock. */
function fromSpan(span: FinishedSpan): LogLine {
  return {
    ts: new Date(hrMs(span.startTime)).toISOString(),
    latency_ms: Math.round(hrMs(span.duration) * 1e6) / 1e6,
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
  };
}

function lineOf(lines: LogLine[], span: FinishedSpan): LogLine {
  const found = lines.filter((l) => l.span_id === span.spanContext().spanId);
  assert.equal(found.length, 1, `exactly one line for ${SpanKind[span.kind]} ${span.name}`);
  return found[0]!;
}

type Pair = ScenarioSession;

function connectPair(sessionId?: string): Promise<Pair> {
  return connectScenario({ sessionId });
}

/**
 * Runs `work` with the instrumentation on a tracer provider that has an in-memory exporter and a
 * JsonLogSpanProcessor; returns the log's lines and the exported spans.
 */
async function withLog(
  options: JsonLogOptions,
  work: (test: { exporter: sdkTrace.InMemorySpanExporter; provider: sdkTrace.TracerProvider; processor: JsonLogSpanProcessor }) => Promise<void>,
  sampler?: sdkTrace.Sampler,
): Promise<{ spans: FinishedSpan[]; processor: JsonLogSpanProcessor }> {
  const exporter = new sdkTrace.InMemorySpanExporter();
  const processor = new JsonLogSpanProcessor(options);
  const provider = new sdkTrace.TracerProvider({
    spanProcessors: [new sdkTrace.SimpleSpanProcessor({ exporter }), processor],
    ...(sampler !== undefined ? { sampler } : {}),
  });
  instrumentation.setTracerProvider(provider);
  try {
    await work({ exporter, provider, processor });
  } finally {
    instrumentation.setTracerProvider(otel.tracerProvider);
  }
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans(); // before shutdown, which empties the exporter
  await provider.shutdown();
  return { spans, processor };
}

/** Captures what `diag` reports at WARN and above. */
function captureDiag(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const record = (message: string, ...args: unknown[]): void => {
    messages.push([message, ...args.map((a) => (a instanceof Error ? `${(a as NodeJS.ErrnoException).code ?? ''} ${a.message}` : String(a)))].join(' '));
  };
  diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  return { messages, restore: () => diag.disable() };
}

describe('the line of each outcome, exact', () => {
  let file: string;
  let lines: LogLine[];
  let spans: FinishedSpan[];
  let promptError: any;
  let timeoutError: any;

  before(async () => {
    file = path.join(freshDir(), 'mcp.log');
    ({ spans } = await withLog({ destination: file }, async ({ exporter, provider }) => {
      const pair = await connectPair('session-7');
      await pair.client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      await pair.client.callTool({ name: 'soft-fail', arguments: {} });
      promptError = await pair.client.getPrompt({ name: 'no-such-prompt' }).catch((e: unknown) => e);
      timeoutError = await mcp
        .callTool(pair.client, { name: 'slow', arguments: { ms: 2000 } }, { timeout: 30 })
        .catch((e: unknown) => e);
      await waitFor(
        () => exporter.getFinishedSpans().some((s) => s.name === 'tools/call slow' && s.kind === SpanKind.SERVER),
        5000,
        'the cancelled server span',
      );
      await pair.close();
      // Non-MCP spans of the same provider are not logged.
      provider.getTracer('test').startSpan('not-mcp').end();
    }));
    lines = readLog(file);
  });

  test('one line per MCP span, none for other spans', () => {
    const mcp = spans.filter(isMcp);
    assert.equal(spans.filter((s) => s.name === 'not-mcp').length, 1);
    assert.equal(lines.length, mcp.length);
    assert.deepEqual(new Set(lines.map((l) => l.span_id)), new Set(mcp.map((s) => s.spanContext().spanId)));
  });

  test('ok: tools/call on both sides', () => {
    const server = only(spans, 'tools/call echo', SpanKind.SERVER);
    const client = only(spans, 'tools/call echo', SpanKind.CLIENT);
    const requestId = server.attributes['jsonrpc.request.id'];
    assert.match(String(requestId), /^\d+$/);
    assert.deepEqual(lineOf(lines, server), {
      ...fromSpan(server),
      level: 'info',
      side: 'server',
      method: 'tools/call',
      tool: 'echo',
      request_id: requestId,
      session_id: 'session-7',
      ok: true,
      peer_name: 'scenario-client',
      peer_version: '4.5.6',
      trace_in: 'meta',
    });
    assert.deepEqual(lineOf(lines, client), {
      ...fromSpan(client),
      level: 'info',
      side: 'client',
      method: 'tools/call',
      tool: 'echo',
      request_id: requestId,
      session_id: 'session-7',
      ok: true,
      peer_name: 'scenario-server',
      peer_version: '1.2.3',
    });
    // The exact text: field order and formatting are part of the contract.
    const text = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.includes(`"span_id":"${server.spanContext().spanId}"`));
    const f = fromSpan(server);
    assert.equal(
      text,
      `{"ts":"${f.ts}","level":"info","side":"server","method":"tools/call","tool":"echo","request_id":"${requestId}",` +
        `"session_id":"session-7","latency_ms":${f.latency_ms},"ok":true,"trace_id":"${f.trace_id}","span_id":"${f.span_id}",` +
        '"peer_name":"scenario-client","peer_version":"4.5.6","trace_in":"meta"}',
    );
    assert.ok((f.latency_ms as number) > 0);
  });

  test('tool_error: level error, error.type, no message without capture', () => {
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) {
      const span = only(spans, 'tools/call soft-fail', kind);
      assert.deepEqual(lineOf(lines, span), {
        ...fromSpan(span),
        level: 'error',
        side: kind === SpanKind.SERVER ? 'server' : 'client',
        method: 'tools/call',
        tool: 'soft-fail',
        request_id: span.attributes['jsonrpc.request.id'],
        session_id: 'session-7',
        ok: false,
        error: { type: 'tool_error' },
        peer_name: kind === SpanKind.SERVER ? 'scenario-client' : 'scenario-server',
        peer_version: kind === SpanKind.SERVER ? '4.5.6' : '1.2.3',
        ...(kind === SpanKind.SERVER ? { trace_in: 'meta' } : {}),
      });
    }
  });

  test('JSON-RPC error: type and code on both sides, the message where the span has it', () => {
    assert.equal(promptError.code, -32602);
    const client = only(spans, 'prompts/get no-such-prompt', SpanKind.CLIENT);
    const server = only(spans, 'prompts/get no-such-prompt', SpanKind.SERVER);
    assert.match(String(client.status.message), /no-such-prompt/);
    assert.deepEqual(lineOf(lines, client), {
      ...fromSpan(client),
      level: 'error',
      side: 'client',
      method: 'prompts/get',
      prompt: 'no-such-prompt',
      request_id: client.attributes['jsonrpc.request.id'],
      session_id: 'session-7',
      ok: false,
      error: { type: '-32602', code: -32602, message: client.status.message },
      peer_name: 'scenario-server',
      peer_version: '1.2.3',
    });
    // A caller fault does not fail the SERVER span (no status message), but the operation failed.
    assert.deepEqual(lineOf(lines, server), {
      ...fromSpan(server),
      level: 'error',
      side: 'server',
      method: 'prompts/get',
      prompt: 'no-such-prompt',
      request_id: server.attributes['jsonrpc.request.id'],
      session_id: 'session-7',
      ok: false,
      error: { type: '-32602', code: -32602 },
      peer_name: 'scenario-client',
      peer_version: '4.5.6',
      trace_in: 'meta',
    });
  });

  test('timeout: timeout on the client, cancelled on the server', async () => {
    assert.equal(timeoutError.code, mcp.expect.timeoutCode);
    const client = only(spans, 'tools/call slow', SpanKind.CLIENT);
    assert.match(String(client.status.message), /timed out/i);
    assert.deepEqual(lineOf(lines, client), {
      ...fromSpan(client),
      level: 'error',
      side: 'client',
      method: 'tools/call',
      tool: 'slow',
      request_id: client.attributes['jsonrpc.request.id'],
      session_id: 'session-7',
      ok: false,
      error: { type: 'timeout', message: client.status.message },
      peer_name: 'scenario-server',
      peer_version: '1.2.3',
    });
    const server = only(spans, 'tools/call slow', SpanKind.SERVER);
    assert.deepEqual(lineOf(lines, server), {
      ...fromSpan(server),
      level: 'error',
      side: 'server',
      method: 'tools/call',
      tool: 'slow',
      request_id: server.attributes['jsonrpc.request.id'],
      session_id: 'session-7',
      ok: false,
      error: { type: 'cancelled' },
      peer_name: 'scenario-client',
      peer_version: '4.5.6',
      trace_in: 'meta',
    });
    // The cancellation the server received is an operation too, without a request id. (The SDK sends
    // it through the transport directly, so the client side has no span for it.)
    const received = only(spans, 'notifications/cancelled', SpanKind.SERVER);
    assert.deepEqual(lineOf(lines, received), {
      ...fromSpan(received),
      level: 'info',
      side: 'server',
      method: 'notifications/cancelled',
      session_id: 'session-7',
      ok: true,
      peer_name: 'scenario-client',
      peer_version: '4.5.6',
      trace_in: 'none',
    });
  });

  test('resources: the URI in `resource`', async () => {
    const file2 = path.join(freshDir(), 'resources.log');
    const { spans: s } = await withLog({ destination: file2 }, async () => {
      const pair = await connectPair();
      await pair.client.readResource({ uri: 'test://static' });
      await pair.close();
    });
    const server = only(s, 'resources/read', SpanKind.SERVER);
    assert.deepEqual(lineOf(readLog(file2), server), {
      ...fromSpan(server),
      level: 'info',
      side: 'server',
      method: 'resources/read',
      resource: 'test://static',
      request_id: server.attributes['jsonrpc.request.id'],
      ok: true,
      peer_name: 'scenario-client',
      peer_version: '4.5.6',
      trace_in: 'meta',
    });
  });
});

describe('escaping', () => {
  test('any string survives the line: quotes, backslashes, controls, lone surrogates, emoji', async () => {
    const nasty = 'say "hi"\\ \n\r\t\u0000\u001f \u2028 \ud800 lone, \udfff lone, 🚀 pair, é';
    const file = path.join(freshDir(), 'escaped.log');
    const processor = new JsonLogSpanProcessor({ destination: file });
    processor.onEnd(syntheticSpan({ 'gen_ai.tool.name': nasty, 'jsonrpc.request.id': nasty, 'mcp.session.id': 'plain' }));
    await processor.shutdown();
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(text.split('\n').length, 2, 'one line: the newline inside is escaped');
    const [line] = parseLog(text);
    // JSON.parse turns the escaped lone surrogates back into the same code units.
    assert.equal(line!.tool, nasty);
    assert.equal(line!.request_id, nasty);
    assert.equal(line!.session_id, 'plain');
    assert.ok(text.includes('\\ud800'), 'a lone surrogate is escaped, not written as invalid UTF-8');
  });
});

describe('content only when capture is on', () => {
  after(() => instrumentation.setConfig({}));

  test('capture on: arguments and result strings, the tool error text', async () => {
    instrumentation.setConfig({ captureContent: true });
    const file = path.join(freshDir(), 'capture.log');
    const { spans } = await withLog({ destination: file }, async () => {
      const pair = await connectPair();
      await pair.client.callTool({ name: 'echo', arguments: { text: 'say "hi"\n\u2028\\' } });
      await pair.client.callTool({ name: 'soft-fail', arguments: {} });
      await pair.close();
    });
    instrumentation.setConfig({});
    const lines = readLog(file);
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT]) {
      const echo = lineOf(lines, only(spans, 'tools/call echo', kind));
      assert.equal(echo.arguments, JSON.stringify({ text: 'say "hi"\n\u2028\\' }));
      assert.equal(echo.result, JSON.stringify({ content: [{ type: 'text', text: 'say "hi"\n\u2028\\' }] }));
      const failed = lineOf(lines, only(spans, 'tools/call soft-fail', kind));
      assert.deepEqual(failed.error, { type: 'tool_error', message: 'soft failure' });
      assert.equal(failed.arguments, '{}');
    }
  });

  test('capture off: no arguments, no result, on any line', async () => {
    const file = path.join(freshDir(), 'nocapture.log');
    await withLog({ destination: file }, async () => {
      const pair = await connectPair();
      await pair.client.callTool({ name: 'echo', arguments: { text: 'private' } });
      await pair.close();
    });
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes('private'), 'no user content in the log');
    for (const line of parseLog(text)) {
      assert.equal('arguments' in line, false);
      assert.equal('result' in line, false);
    }
  });
});

describe('destinations', () => {
  test('standard output is refused, under each of its names', () => {
    const names: unknown[] = ['stdout', 'STDOUT', ' Stdout ', process.stdout, 1, { fd: 1 }, '/dev/stdout', '/dev/fd/1', '/proc/self/fd/1', `/proc/${process.pid}/fd/1`];
    for (const destination of names) {
      assert.throws(
        () => new JsonLogSpanProcessor({ destination: destination as JsonLogOptions['destination'] }),
        (error: unknown) => error instanceof StdoutDestinationError && error.code === 'ERR_MCP_LOG_STDOUT' && error.name === 'StdoutDestinationError',
        `refuses ${typeof destination === 'object' ? 'a stdout stream' : String(destination)}`,
      );
    }
  });

  test('a file that is standard output under another name is refused too', () => {
    const out = path.join(freshDir(), 'redirected-stdout.txt');
    const script = `
      const { JsonLogSpanProcessor } = require(${JSON.stringify(path.join(REPO_ROOT, 'build', 'src', 'json-log', 'index.js'))});
      try { new JsonLogSpanProcessor({ destination: process.argv[1] }); process.stderr.write('accepted'); }
      catch (error) { process.stderr.write(error.name); }`;
    const fd = fs.openSync(out, 'w');
    try {
      const r = spawnSync(process.execPath, ['-e', script, out], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
      assert.equal(r.stderr, 'StdoutDestinationError');
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(fs.readFileSync(out, 'utf8'), '', 'nothing was written to standard output');
  });

  test('other destinations are type errors; rotation needs a file', () => {
    assert.throws(() => new JsonLogSpanProcessor({ destination: 7 }), TypeError);
    assert.throws(() => new JsonLogSpanProcessor({ destination: '' }), TypeError);
    assert.throws(() => new JsonLogSpanProcessor({ destination: { write() {} } as never }), TypeError);
    assert.throws(() => new JsonLogSpanProcessor({ rotation: { size: '1m' } }), TypeError);
    const file = path.join(freshDir(), 'x.log');
    for (const rotation of [{}, { size: 'ten' }, { size: -1 }, { frequency: 'weekly' }, { size: '1m', keep: 0 }]) {
      assert.throws(() => new JsonLogSpanProcessor({ destination: file, rotation: rotation as never }), TypeError, JSON.stringify(rotation));
    }
  });

  test('standard error of a child process: every line, nothing on standard output, after process.exit()', async () => {
    const ops = 500;
    const child = spawn(process.execPath, [fixture('log-child.cjs')], {
      env: childEnv({ LOG_OPS: String(ops) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await exitCode(child);
    assert.equal(code, 0, stderr.slice(-2000));
    assert.equal(stdout, '', 'the log never touches standard output');
    const lines = parseLog(stderr, 'child stderr');
    const calls = lines.filter((l) => l.method === 'tools/call');
    assert.equal(calls.filter((l) => l.side === 'server').length, ops);
    assert.equal(calls.filter((l) => l.side === 'client').length, ops);
    assert.deepEqual(new Set(calls.filter((l) => l.side === 'server').map((l) => l.request_id)).size, ops);
    for (const line of calls) {
      assert.equal(line.tool, 'echo');
      assert.equal(line.ok, true);
      assert.equal(line.peer_name, line.side === 'server' ? 'log-child-client' : 'log-child-server');
    }
    // The handshake: initialize and notifications/initialized, on both sides.
    assert.equal(lines.length, 2 * ops + 4);
  });

  for (const [label, env, where] of [
    ['standard error', {}, 'stderr'],
    ['a file', { LOG_DESTINATION: 'FILE' }, 'file'],
    ['a rotated file not open yet', { LOG_DESTINATION: 'FILE', LOG_ROTATE_SIZE: '1m' }, 'file'],
  ] as const) {
    test(`process.exit() right after logging: every line reaches ${label}`, async () => {
      const file = path.join(freshDir(), 'exit.log');
      const ops = 3000;
      const childEnvVars: Record<string, string> = { LOG_MODE: 'synthetic', LOG_OPS: String(ops) };
      for (const [k, v] of Object.entries(env)) childEnvVars[k] = v === 'FILE' ? file : v;
      const child = spawn(process.execPath, [fixture('log-child.cjs')], { env: childEnv(childEnvVars), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      assert.equal(await exitCode(child), 0, stderr.slice(-2000));
      assert.equal(stdout, '');
      const lines = where === 'stderr' ? parseLog(stderr, 'child stderr') : readLog(file);
      assert.equal(lines.length, ops);
      assert.deepEqual(new Set(lines.map((l) => l.request_id)).size, ops);
      assert.deepEqual(lines[0], {
        ts: '2023-11-14T22:13:20.000Z',
        level: 'info',
        side: 'server',
        method: 'tools/call',
        tool: 'synthetic',
        request_id: lines[0]!.request_id,
        latency_ms: 1.5,
        ok: true,
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
      });
    });
  }

  test('the module loads neither SDK package, nor pino-roll until a file rotates', () => {
    const script = `
      require(${JSON.stringify(path.join(REPO_ROOT, 'build', 'src', 'json-log', 'index.js'))});
      const loaded = Object.keys(require.cache).filter((k) => /[\\\\/]node_modules[\\\\/](@opentelemetry[\\\\/]sdk-trace|pino-roll|hdr-histogram-js)/.test(k));
      process.stderr.write(JSON.stringify(loaded));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, cwd: REPO_ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stderr), []);
  });
});

/**
 * Drives a server with raw JSON-RPC (no client spans): `count` concurrent tools/call of `tick`, or,
 * with `wave`, waves of that many, `between()` awaited after each (pino-roll rotates once the
 * writer has caught up, which one long burst never lets it do).
 */
async function rawLoad(count: number, wave = count, between: () => Promise<void> = async () => {}): Promise<void> {
  const server = scenario.createScenarioServer(mcp);
  mcp.tool(server, 'tick', 'Waits a turn of the event loop', {}, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return { content: [] };
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const responses = new Map<unknown, any>();
  clientTransport.onmessage = (message: any) => {
    if (message.id !== undefined) responses.set(message.id, message);
  };
  await clientTransport.start();
  await server.connect(serverTransport);
  await clientTransport.send({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: mcp.LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'load', version: '1' } },
  });
  await waitFor(() => responses.has('init'), 5000, 'initialize');
  await clientTransport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let first = 0; first < count; first += wave) {
    const last = Math.min(first + wave, count);
    for (let id = first; id < last; id++) {
      void clientTransport.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'tick', arguments: {} } });
    }
    await waitFor(() => responses.size === last + 1, 60_000, `${last} responses`);
    await between();
  }
  for (let id = 0; id < count; id++) assert.deepEqual(responses.get(id)?.result, { content: [] }, `response ${id}`);
  await server.close();
}

/** Waits until the log has written everything so far, and a rotation it triggered has begun. */
async function caughtUp(processor: JsonLogSpanProcessor): Promise<void> {
  await processor.forceFlush();
  await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('under load', () => {
  test('10,000 concurrent operations: exactly 10,000 whole lines', async () => {
    const file = path.join(freshDir(), 'load.log');
    const count = 10_000;
    await withLog({ destination: file }, () => rawLoad(count));
    const text = fs.readFileSync(file, 'utf8');
    const lines = parseLog(text);
    const calls = lines.filter((l) => l.method === 'tools/call');
    assert.equal(calls.length, count);
    assert.deepEqual(
      lines.filter((l) => l.method !== 'tools/call').map((l) => l.method),
      ['initialize', 'notifications/initialized'],
    );
    assert.equal(text.split('\n').length - 1, count + 2, 'one newline per line');
    assert.deepEqual(
      new Set(calls.map((l) => l.request_id)),
      new Set(Array.from({ length: count }, (_, id) => String(id))),
    );
    for (const line of calls) {
      assert.equal(line.side, 'server');
      assert.equal(line.tool, 'tick');
      assert.equal(line.ok, true);
      assert.equal(line.peer_name, 'load');
    }
  });

  test('lines reach the file without a flush: whole batches at once, the rest within the coalescing delay', async () => {
    const file = path.join(freshDir(), 'unflushed.log');
    // ~1,000 lines: several 64 KiB batches and a partial one, which only the delay writes out.
    const count = 1_000;
    const countLines = (): number => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0);
    await withLog({ destination: file }, async () => {
      await rawLoad(count);
      await waitFor(() => countLines() === count + 2, 2000, `${count + 2} lines in the file without a flush`);
    });
    const lines = parseLog(fs.readFileSync(file, 'utf8'));
    assert.equal(lines.filter((l) => l.method === 'tools/call').length, count);
  });

  test('rotation by size keeps every line across the files', async () => {
    const dir = path.join(freshDir(), 'rotated');
    const count = 2000;
    const limit = 16 * 1024;
    // Waves of 100 lines (about 25 KB, past the limit), each written out before the next.
    await withLog({ destination: path.join(dir, 'ops.log'), rotation: { size: limit }, mkdir: true }, ({ processor }) =>
      rawLoad(count, 100, () => caughtUp(processor)),
    );
    const files = fs
      .readdirSync(dir)
      .map((name) => ({ name, n: Number(/^ops\.(\d+)\.log$/.exec(name)?.[1]) }))
      .sort((a, b) => a.n - b.n);
    assert.ok(files.every((f) => Number.isInteger(f.n)), `only rotated files: ${files.map((f) => f.name).join(', ')}`);
    assert.ok(files.length >= 10, `rotated into ${files.length} files`);
    let all: LogLine[] = [];
    files.forEach((f, i) => {
      const full = path.join(dir, f.name);
      const lines = readLog(full);
      // Every file but the newest filled up before the next began (the newest may be empty).
      if (i < files.length - 1) assert.ok(lines.length > 0 && fs.statSync(full).size >= limit, `${f.name} filled before rotating`);
      all = all.concat(lines);
    });
    const calls = all.filter((l) => l.method === 'tools/call');
    assert.equal(all.length, count + 2);
    assert.equal(new Set(calls.map((l) => l.request_id)).size, count);
  });

  test('rotation with keep: this process keeps the current file and the `keep` newest', async () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'unrelated.txt'), 'not a log\n');
    const { processor } = await withLog({ destination: path.join(dir, 'ops.log'), rotation: { size: '4k', keep: 2 } }, ({ processor: p }) =>
      rawLoad(600, 20, () => caughtUp(p)),
    );
    assert.equal(processor.droppedLines, 0);
    const logs = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('ops.')).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
    await waitFor(() => logs().length === 3, 10_000, `3 files, have ${logs().join(', ')}`);
    const numbers = logs().map((n) => Number(n.split('.')[1]));
    assert.ok(numbers[2]! > 3, 'rotated more than `keep` times');
    assert.deepEqual(numbers, [numbers[2]! - 2, numbers[2]! - 1, numbers[2]!], 'the newest three');
    assert.ok(fs.existsSync(path.join(dir, 'unrelated.txt')));
  });
});

describe('destination errors go to diag once, never to the application', () => {
  let captured: ReturnType<typeof captureDiag>;
  beforeEach(() => {
    captured = captureDiag();
  });
  afterEach(() => captured.restore());

  test('a missing directory: the application runs on, lines are dropped and counted', async () => {
    const file = path.join(freshDir(), 'no-such-dir', 'mcp.log');
    const { processor, spans } = await withLog({ destination: file }, async () => {
      const pair = await connectPair();
      for (let i = 0; i < 3; i++) await pair.client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await pair.close();
    });
    assert.equal(fs.existsSync(file), false);
    assert.equal(spans.filter((s) => s.name === 'tools/call echo').length, 6);
    assert.equal(processor.droppedLines, spans.filter(isMcp).length, 'every line dropped, and counted');
    assert.equal(captured.messages.length, 1, captured.messages.join('\n'));
    assert.match(captured.messages[0]!, /cannot open .*no-such-dir.*ENOENT/);
  });

  test('mkdir: true creates the directory', async () => {
    const file = path.join(freshDir(), 'new', 'dir', 'mcp.log');
    await withLog({ destination: file, mkdir: true }, async () => {
      const pair = await connectPair();
      await pair.client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await pair.close();
    });
    assert.equal(readLog(file).filter((l) => l.method === 'tools/call').length, 2);
    assert.deepEqual(captured.messages, []);
  });

  test('ENOSPC (/dev/full): reported once, flush and shutdown still return', { skip: !fs.existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    await withLog({ destination: '/dev/full' }, async () => {
      const pair = await connectPair();
      for (let i = 0; i < 20; i++) await pair.client.callTool({ name: 'echo', arguments: { text: 'x' } });
      await pair.close();
    });
    assert.equal(captured.messages.length, 1, captured.messages.join('\n'));
    assert.match(captured.messages[0]!, /cannot write to \/dev\/full.*ENOSPC/);
  });

  test('a failing destination holds at most maxBufferBytes: the rest is dropped, reported once', { skip: !fs.existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const span = syntheticSpan();
    const sizer = path.join(freshDir(), 'one.log');
    const one = new JsonLogSpanProcessor({ destination: sizer });
    one.onEnd(span);
    await one.shutdown();
    const lineBytes = fs.statSync(sizer).size;
    const processor = new JsonLogSpanProcessor({ destination: '/dev/full', maxBufferBytes: 1000, timeoutMillis: 2000 });
    for (let i = 0; i < 50; i++) processor.onEnd(span);
    assert.equal(processor.droppedLines, 50 - Math.floor(1000 / lineBytes));
    await processor.shutdown();
    assert.equal(captured.messages.filter((m) => /dropping lines beyond 1000 buffered bytes/.test(m)).length, 1, captured.messages.join('\n'));
  });
});

function syntheticSpan(attributes: Attributes = {}): sdkTrace.ReadableSpan {
  return {
    name: 'tools/call synthetic',
    kind: SpanKind.SERVER,
    attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'synthetic', ...attributes },
    status: { code: 0 },
    startTime: [1700000000, 0],
    endTime: [1700000000, 1500000],
    duration: [0, 1500000],
    spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
    instrumentationScope: { name: PACKAGE_NAME },
  } as unknown as sdkTrace.ReadableSpan;
}

describe('a destination the file system cannot create never stops the application', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  // Under /proc, Node 20's recursive mkdir loops forever (a spinning CPU, no answer to `initialize`).
  const NOT_CREATABLE = '/proc/nonexistent/x.log';
  after(killChildren);

  for (const rotate of [false, true]) {
    test(`mkdir: true, ${NOT_CREATABLE}${rotate ? ', rotated' : ''}: a stdio server answers; one diagnostic on stderr`, async () => {
      const child = startChild(
        [fixture('json-log-server.cjs')],
        cleanEnv({ LOG_DESTINATION: NOT_CREATABLE, LOG_MKDIR: '1', ...(rotate ? { LOG_ROTATE_SIZE: '1m' } : {}) }),
      );
      child.send(INITIALIZE);
      await child.response(0);
      child.send(INITIALIZED);
      child.send(echoCall(1, 'still here'));
      assert.deepEqual((await child.response(1)).result, { content: [{ type: 'text', text: 'still here' }] });
      child.process.stdin!.end();
      const exit = await child.exited(20_000);
      assert.deepEqual(
        exit.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { jsonrpc: string; id: number }).id),
        [0, 1],
      );
      const lines = exit.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines[0], `opentelemetry-instrumentation-mcp/json-log cannot open ${NOT_CREATABLE}; MCP operations will not be logged Error: ENOENT: no such file or directory, mkdir '/proc/nonexistent'`);
      assert.equal(lines.filter((l) => l.includes(NOT_CREATABLE)).length, 1, exit.stderr);
    });
  }
});

describe('the log does not depend on trace sampling', () => {
  test('McpRecordingSampler: MCP spans at least recording, others as the delegate decides', () => {
    const off = new McpRecordingSampler(new sdkTrace.AlwaysOffSampler());
    const on = new McpRecordingSampler(new sdkTrace.AlwaysOnSampler());
    const ctx = context.active();
    const mcp = { 'mcp.method.name': 'tools/call' };
    assert.equal(off.shouldSample(ctx, 'a'.repeat(32), 'tools/call x', SpanKind.SERVER, mcp, []).decision, sdkTrace.SamplingDecision.RECORD);
    assert.equal(off.shouldSample(ctx, 'a'.repeat(32), 'GET /', SpanKind.SERVER, {}, []).decision, sdkTrace.SamplingDecision.NOT_RECORD);
    assert.equal(on.shouldSample(ctx, 'a'.repeat(32), 'tools/call x', SpanKind.SERVER, mcp, []).decision, sdkTrace.SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(off.toString(), 'McpRecordingSampler{AlwaysOffSampler}');
  });

  for (const [label, delegate] of [
    ['AlwaysOffSampler', () => new sdkTrace.AlwaysOffSampler()],
    ['ParentBased(TraceIdRatioBased(0))', () => new sdkTrace.ParentBasedSampler({ root: new sdkTrace.TraceIdRatioBasedSampler(0) })],
  ] as const) {
    test(`a 0%-sampled tracer (${label}) still logs every operation; the exporter sees none`, async () => {
      const file = path.join(freshDir(), 'unsampled.log');
      const { spans } = await withLog(
        { destination: file },
        async ({ provider }) => {
          const pair = await connectPair();
          await provider.getTracer('test').startActiveSpan('app-operation', async (span) => {
            for (let i = 0; i < 5; i++) await pair.client.callTool({ name: 'echo', arguments: { text: 'x' } });
            await pair.client.callTool({ name: 'soft-fail', arguments: {} });
            span.end();
          });
          await pair.close();
        },
        // The cast: src/sampler.ts types `traceState` as `unknown`, which the SDK's `Sampler` rejects.
        new McpRecordingSampler(delegate()) as unknown as sdkTrace.Sampler,
      );
      assert.equal(spans.length, 0, 'nothing sampled, nothing exported');
      const calls = readLog(file).filter((l) => l.method === 'tools/call');
      const count = (side: string, tool: string, ok: boolean): number =>
        calls.filter((l) => l.side === side && l.tool === tool && l.ok === ok).length;
      assert.deepEqual(
        [count('server', 'echo', true), count('client', 'echo', true), count('server', 'soft-fail', false), count('client', 'soft-fail', false)],
        [5, 5, 1, 1],
      );
      assert.equal(calls.length, 12);
      // Unsampled, but real trace ids: the client's and the server's line of a call share one.
      for (const line of calls) assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
    });
  }
});

function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
