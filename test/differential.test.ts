/*
 * Differential tests: the instrumented SDK puts exactly the same messages on the wire as the bare SDK,
 * apart from the trace keys (`traceparent`, `tracestate`, `baggage`) it adds to `params._meta`.
 *
 * (a) stdio: one scripted raw JSON-RPC session, byte-for-byte the same input, against the stdio server
 *     fixture run bare (INSTRUMENT=0) and instrumented (CJS, and ESM under the loader hook); the server's
 *     stdout is compared message by message.
 * (b) in-process: a McpServer and a Client over a linked InMemoryTransport pair whose `send` is recorded
 *     on both sides, run once with the instrumentation disabled and once enabled.
 * Plus: `disable()` / `enable()` put back exactly the SDK's own functions, and never wrap twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import { parentSpanIdOf, setupOtel, waitFor, type FinishedSpan } from './helpers/otel';
import { childEnv, fileUrl, fixture, sdk, sdkPath } from './helpers/sdk';
import { mcpSdk, v1Only } from './helpers/mcp';
import { closeServer, listen } from './helpers/net';
import { readChildSpans, waitForExit, type ChildSpan } from './helpers/process';
import { McpInstrumentation } from '../src';

// The scripted raw sessions use v1 request schemas, and the restore checks compare v1's own
// `shared/protocol.js` functions; v2's funnels are checked in v2.test.ts.
const V1_ONLY = v1Only('scripted with v1 request schemas; compares functions of v1 shared/protocol.js');

const otel = setupOtel();
const instrumentation = new McpInstrumentation();

// eslint-disable-next-line @typescript-eslint/no-require-imports
const scenario = require(fixture('scenario.cjs'));

/** A JSON-RPC message, loosely: what the tests read of it. */
interface Message {
  jsonrpc?: unknown;
  id?: unknown;
  method?: string;
  params?: { _meta?: unknown; [key: string]: unknown };
  result?: { [key: string]: unknown };
  error?: unknown;
  /** A stdout line that is not JSON (never expected). */
  notJson?: string;
}

const TRACE_KEYS = ['traceparent', 'tracestate', 'baggage'];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-9a-f]$/;
const WAIT_MS = 20_000;
const CHILD_EXIT_MS = 10_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A deep copy of `value` without the trace keys in any `_meta` object, without the `_meta` objects
 * that held nothing else, and without a `params` object that held nothing but such a `_meta` (a
 * parameterless request or notification needs one to carry `_meta`). Everything else, including other
 * `_meta` keys and empty objects the sender wrote itself, is kept as is.
 */
function withoutTraceKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTraceKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '_meta' && isPlainObject(child)) {
      const meta = withoutTraceKeys(child) as Record<string, unknown>;
      const removed = TRACE_KEYS.filter((k) => k in meta);
      for (const k of removed) delete meta[k];
      if (removed.length > 0 && Object.keys(meta).length === 0) continue;
      out[key] = meta;
    } else if (key === 'params' && isPlainObject(child) && isPlainObject(child._meta)) {
      const params = withoutTraceKeys(child) as Record<string, unknown>;
      if (!('_meta' in params) && Object.keys(params).length === 0) continue;
      out[key] = params;
    } else {
      out[key] = withoutTraceKeys(child);
    }
  }
  return out;
}

/** Whether `value` holds a trace key anywhere. */
function hasTraceKey(value: unknown): boolean {
  return TRACE_KEYS.some((k) => JSON.stringify(value).includes(`"${k}"`));
}

function sortKey(message: Message): string {
  const id = message.id;
  return typeof id === 'number' ? `n${String(id).padStart(12, '0')}` : `s${JSON.stringify(id)}`;
}

// ---------------------------------------------------------------------------------------------------
// (a) stdio
// ---------------------------------------------------------------------------------------------------

interface RawRun {
  /** Messages in the order the server wrote them, asynchronous bursts sorted by id. */
  canonical: Message[];
  /** Every stdout line, as written. */
  lines: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
  /** The JSON-RPC id of each labelled request of the script. */
  ids: Record<string, number>;
}

type Variant = { label: string; args: string[]; env: Record<string, string> };

/**
 * Runs the scripted session against one server process. Requests are sent one at a time, each after
 * the previous response, so that the server's output order is deterministic; one burst of pipelined
 * requests is compared sorted by id. The server's own requests are answered by the script.
 */
async function runRawSession(variant: Variant, types: { LATEST_PROTOCOL_VERSION: string; ElicitRequestSchema?: unknown }): Promise<RawRun> {
  const child = spawn(process.execPath, variant.args, { env: childEnv(variant.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const messages: Message[] = [];
  const write = (raw: string): void => {
    child.stdin.write(`${raw}\n`);
  };
  const send = (message: object): void => write(JSON.stringify(message));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    const lines = stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
    for (const line of lines.slice(messages.length)) {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        // Not JSON-RPC: kept as is, so that the comparison shows it.
        message = { notJson: line };
      }
      messages.push(message);
      if (typeof message.method === 'string' && message.id !== undefined) {
        // The server asks something of its client: answer the way a client would.
        if (message.method === 'sampling/createMessage') {
          send({ jsonrpc: '2.0', id: message.id, result: { model: 'raw-model', role: 'assistant', content: { type: 'text', text: 'sampled' } } });
        } else if (message.method === 'roots/list') {
          send({ jsonrpc: '2.0', id: message.id, result: { roots: [{ uri: 'file:///raw', name: 'raw' }] } });
        } else if (message.method === 'elicitation/create') {
          send({ jsonrpc: '2.0', id: message.id, result: { action: 'accept', content: { answer: 'yes' } } });
        } else {
          send({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } });
        }
      }
    }
  });
  const isResponseTo = (id: unknown) => (m: Message) => m.method === undefined && m.id === id;
  const waitResponse = (id: unknown): Promise<void> =>
    waitFor(() => messages.some(isResponseTo(id)), WAIT_MS, `${variant.label}: response to ${JSON.stringify(id)} (stderr: ${stderr})`);
  let nextId = 1;
  const ids: Record<string, number> = {};
  const request = async (method: string, params?: unknown, label?: string): Promise<void> => {
    const id = nextId++;
    if (label !== undefined) ids[label] = id;
    send({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) });
    await waitResponse(id);
  };
  /** Input the server answers with nothing; a ping after it proves the server is still there. */
  const unanswered = async (raw: string): Promise<void> => {
    write(raw);
    await request('ping');
  };
  const tool = (name: string, args: unknown, meta?: unknown, label?: string): Promise<void> =>
    request('tools/call', { name, arguments: args, ...(meta !== undefined ? { _meta: meta } : {}) }, label);

  let burst: [number, number] = [0, 0];
  let exit: RawRun['exit'];
  try {
    await request('initialize', {
      protocolVersion: types.LATEST_PROTOCOL_VERSION,
      capabilities: { sampling: {}, roots: { listChanged: true }, ...(types.ElicitRequestSchema !== undefined ? { elicitation: {} } : {}) },
      clientInfo: { name: 'raw-client', version: '9.9.9' },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    // A subscribed client: log forwarding is off by default and must not add messages.
    await request('logging/setLevel', { level: 'debug' });
    await request('tools/list');
    await tool('echo', { text: 'hello' }, undefined, 'plain');
    await tool('soft-fail', {});
    await tool('fail', {});
    await tool('unknown-tool', {});
    await tool('echo', { text: 5 });
    await request('tools/call', { name: 'echo' });
    await request('prompts/get', { name: 'greet', arguments: { name: 'Ada' } });
    await request('prompts/get', { name: 'no-such-prompt', arguments: {} });
    await request('resources/read', { uri: 'test://static' });
    await request('resources/read', { uri: 'test://missing' });
    await request('no/such/method', {});
    await request('ping');
    // A caller's own trace context, and other `_meta` keys next to it.
    await tool('echo', { text: 'traced' }, {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=value',
      baggage: 'user=alice',
      custom: 'kept',
    }, 'traced');
    // Garbage in `_meta`: ignored by the instrumentation, handled by the SDK as without it.
    await tool('echo', { text: 'non-string' }, { traceparent: 42, tracestate: { a: 1 }, baggage: ['x'] }, 'non-string');
    await tool('echo', { text: 'huge' }, { traceparent: `00-${'a'.repeat(10 * 1024)}`, tracestate: 'k='.padEnd(10 * 1024, 'v') }, 'huge');
    await tool('echo', { text: 'malformed' }, { traceparent: 'not-a-traceparent', baggage: '%%%' }, 'malformed');
    await tool('echo', { text: 'all zeros' }, { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' }, 'all-zeros');
    await unanswered(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'meta string' }, _meta: 'string' } }));
    await unanswered(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'meta null' }, _meta: null } }));
    await unanswered(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'meta array' }, _meta: [1, 2] } }));
    await unanswered(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { _meta: { traceparent: 7 } } }));
    await unanswered(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 12345, reason: 'nothing to cancel' } }));
    await unanswered('this line is not JSON');
    // The server's own notifications and requests, which the instrumented server adds `_meta` to.
    await tool('progress', { steps: 2 }, { progressToken: 'progress-1' });
    await tool('log', {});
    await tool('ask-llm', {});
    await tool('list-roots', {});
    if (types.ElicitRequestSchema !== undefined) await tool('elicit', {});
    // Pipelined requests: answered asynchronously, compared by id.
    const first = nextId;
    send({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'echo', arguments: { text: 'a' } } });
    send({ jsonrpc: '2.0', id: nextId++, method: 'ping' });
    send({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1 } } });
    send({ jsonrpc: '2.0', id: nextId++, method: 'prompts/get', params: { name: 'greet', arguments: { name: 'Bo' } } });
    send({ jsonrpc: '2.0', id: nextId++, method: 'resources/read', params: { uri: 'test://static' } });
    send({ jsonrpc: '2.0', id: nextId++, method: 'no/such/method' });
    const start = messages.length;
    for (let id = first; id < nextId; id++) await waitResponse(id);
    burst = [start, messages.length];
    await request('ping');
  } finally {
    child.stdin.end();
    exit = await waitForExit(child, CHILD_EXIT_MS);
  }
  const canonical = [
    ...messages.slice(0, burst[0]),
    ...messages.slice(burst[0], burst[1]).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0)),
    ...messages.slice(burst[1]),
  ];
  return { canonical, lines: stdout.split('\n').filter((l) => l !== ''), exit, stderr, ids };
}

describe('differential (stdio): the instrumented server writes the same stdout as the bare one', { skip: V1_ONLY }, () => {
  let dir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let types: any;
  let bare: RawRun;
  let cjs: RawRun;
  let esm: RawRun;
  let cjsSpanFile: string;

  before(async () => {
    types = sdk('types.js');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-diff-stdio-'));
    cjsSpanFile = path.join(dir, 'cjs-spans.jsonl');
    bare = await runRawSession({ label: 'bare CJS', args: [fixture('stdio-server.cjs')], env: { INSTRUMENT: '0' } }, types);
    cjs = await runRawSession(
      { label: 'instrumented CJS', args: [fixture('stdio-server.cjs')], env: { INSTRUMENT: '1', SPAN_FILE: cjsSpanFile } },
      types,
    );
    esm = await runRawSession(
      {
        label: 'instrumented ESM',
        args: ['--import', fileUrl(fixture('esm-loader.mjs')), fixture('stdio-server.mjs')],
        env: { SPAN_FILE: path.join(dir, 'esm-spans.jsonl') },
      },
      types,
    );
  });

  after(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the bare server ran the whole session and carries no trace keys', () => {
    assert.deepEqual(bare.exit, { code: 0, signal: null }, `bare exit (stderr: ${bare.stderr})`);
    assert.equal(hasTraceKey(bare.canonical), false);
    // The session exercised what it meant to: server requests and notifications, errors, results.
    const methods = bare.canonical.filter((m) => m.method !== undefined).map((m) => m.method);
    assert.ok(methods.includes('sampling/createMessage') && methods.includes('roots/list') && methods.includes('notifications/message'), `server-sent: ${methods.join(', ')}`);
    assert.ok(bare.canonical.some((m) => (m.error as { code?: unknown } | undefined)?.code === -32601));
    assert.ok(bare.canonical.some((m) => m.result?.isError === true));
  });

  test('instrumented CJS: same messages, in the same order, apart from the trace keys', () => {
    assert.deepEqual(cjs.exit, { code: 0, signal: null }, `instrumented exit (stderr: ${cjs.stderr})`);
    assert.equal(cjs.lines.length, bare.lines.length);
    assert.deepEqual(withoutTraceKeys(cjs.canonical), bare.canonical);
  });

  test('instrumented ESM (under the loader hook): same messages apart from the trace keys and its name', () => {
    assert.deepEqual(esm.exit, { code: 0, signal: null }, `ESM exit (stderr: ${esm.stderr})`);
    const renamed = esm.canonical.map((m) => {
      const info = m.result?.serverInfo as { name?: unknown } | undefined;
      if (info?.name !== 'stdio-server-esm') return m;
      return { ...m, result: { ...m.result, serverInfo: { ...info, name: 'stdio-server-cjs' } } };
    });
    assert.equal(renamed.filter((m, i) => m !== esm.canonical[i]).length, 1, 'the initialize result named the ESM server');
    assert.deepEqual(withoutTraceKeys(renamed), bare.canonical);
  });

  test("the instrumented servers' own requests and notifications carry a valid traceparent, and only those", () => {
    for (const run of [cjs, esm]) {
      for (const message of run.canonical) {
        const meta = message.params?._meta as Record<string, unknown> | undefined;
        if (message.method === undefined) {
          assert.equal(hasTraceKey(message), false, `a response carries trace keys: ${JSON.stringify(message)}`);
          continue;
        }
        assert.match(String(meta?.traceparent), TRACEPARENT, `${message.method} has no valid traceparent: ${JSON.stringify(message)}`);
      }
    }
  });

  test('the instrumented server parented its spans on valid `_meta` context and ignored the garbage', () => {
    const spans = readChildSpans(cjsSpanFile).filter((sp) => sp.kind === SpanKind.SERVER && sp.name === 'tools/call echo');
    const spanOf = (label: string): ChildSpan => {
      const found = spans.filter((sp) => sp.attributes['jsonrpc.request.id'] === String(cjs.ids[label]));
      assert.equal(found.length, 1, `one SERVER span for the "${label}" request (id ${cjs.ids[label]})`);
      return found[0]!;
    };
    const traced = spanOf('traced');
    assert.equal(traced.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(traced.parentSpanId, 'b7ad6b7169203331');
    const traceIds = new Set([traced.traceId]);
    for (const label of ['plain', 'non-string', 'huge', 'malformed', 'all-zeros']) {
      const span = spanOf(label);
      assert.equal(span.parentSpanId, undefined, `"${label}": a root span`);
      assert.equal(traceIds.has(span.traceId), false, `"${label}": a trace of its own`);
      traceIds.add(span.traceId);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// (b) in-process, and disable() / enable()
// ---------------------------------------------------------------------------------------------------

const PROTOCOL_METHODS = [
  'connect',
  'request',
  'notification',
  '_onrequest',
  '_onnotification',
  '_onresponse',
  '_oncancel',
  '_onerror',
  '_onclose',
] as const;

/** The function a shimmer wrapper wraps (`__original`), or `undefined` for a plain function. */
function originalOf(fn: unknown): unknown {
  return (fn as { __original?: unknown } | undefined)?.__original;
}

function isProgressRequest(message: Message): boolean {
  return message.method === 'tools/call' && message.params?.name === 'progress';
}

/**
 * Whether the SDK's `Protocol.request` replaces `params._meta` with `{ progressToken }` when the caller
 * passes `onprogress` (SDK releases before modelcontextprotocol/typescript-sdk#560, e.g. 1.10.0), instead
 * of adding the token to the `_meta` it was given.
 */
interface Logged {
  from: 'client' | 'server';
  message: Message;
}

interface InProcessRun {
  log: Logged[];
  /** What the application saw: each call's result or error, in order. */
  outcomes: unknown[];
  progress: unknown[];
  /** The spans that ended during the run. */
  spans: FinishedSpan[];
}

function outcomeOf(value: unknown): unknown {
  return JSON.parse(JSON.stringify({ ok: value }));
}

function failureOf(error: unknown): unknown {
  if (error instanceof Error) {
    return { error: { class: error.constructor.name, code: (error as { code?: unknown }).code, message: error.message } };
  }
  return { error: { value: String(error) } };
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return outcomeOf(await promise);
  } catch (error) {
    return failureOf(error);
  }
}

/** Runs the scripted in-process session, recording every message either side sends. */
async function runInProcess(fetchUrl: string): Promise<InProcessRun> {
  const mark = otel.spans().length;
  const mcp = mcpSdk();
  const { Client, InMemoryTransport, types } = mcp;
  const server = scenario.createScenarioServer(mcp, { name: 'diff-server' });
  const client = new Client(scenario.CLIENT_INFO, scenario.clientCapabilities(mcp));
  scenario.configureScenarioClient(client, mcp);

  const log: Logged[] = [];
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  for (const [from, transport] of [
    ['client', clientTransport],
    ['server', serverTransport],
  ] as const) {
    const send = transport.send.bind(transport);
    transport.send = (message: Message, options?: unknown) => {
      log.push({ from, message: JSON.parse(JSON.stringify(message)) as Message });
      return send(message, options);
    };
  }

  const outcomes: unknown[] = [];
  const progress: unknown[] = [];
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  const call = async (params: unknown, options?: unknown): Promise<void> => {
    outcomes.push(await outcome(client.callTool(params, undefined, options)));
  };

  outcomes.push(await outcome(client.setLoggingLevel('debug')));
  outcomes.push(await outcome(client.listTools()));
  outcomes.push(await outcome(client.listPrompts()));
  outcomes.push(await outcome(client.listResources()));
  outcomes.push(await outcome(client.ping()));
  await call({ name: 'echo', arguments: { text: 'hello' } });
  await call({ name: 'fail', arguments: {} });
  await call({ name: 'soft-fail', arguments: {} });
  await call({ name: 'slow', arguments: { ms: 1 } });
  await call({ name: 'fetch', arguments: { url: fetchUrl } });
  await call({ name: 'big', arguments: { size: 20_000 } });
  await call({ name: 'ask-llm', arguments: {} });
  await call({ name: 'list-roots', arguments: {} });
  if (types.ElicitRequestSchema !== undefined) await call({ name: 'elicit', arguments: {} });
  await call({ name: 'progress', arguments: { steps: 3 } }, { onprogress: (p: unknown) => progress.push(p) });
  await call({ name: 'log', arguments: {} });
  await call({ name: 'unknown-tool', arguments: {} });
  await call({ name: 'echo', arguments: { text: 5 } });
  outcomes.push(await outcome(client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })));
  outcomes.push(await outcome(client.readResource({ uri: 'test://static' })));
  outcomes.push(await outcome(client.request({ method: 'no/such/method' }, types.EmptyResultSchema)));
  // A caller's own `_meta` travels next to the trace keys.
  await call({ name: 'echo', arguments: { text: 'with meta' }, _meta: { custom: 'kept', nested: { a: 1 } } });
  // A timeout: the client gives up and sends notifications/cancelled; the server answers nothing.
  await call({ name: 'slow', arguments: { ms: 10_000 } }, { timeout: 50 });
  // The caller's AbortSignal: cancelled once the server has the request.
  const controller = new AbortController();
  const countSlow = (): number => log.filter((l) => l.from === 'client' && l.message.method === 'tools/call' && l.message.params?.name === 'slow').length;
  const before = countSlow();
  const pending = outcome(client.callTool({ name: 'slow', arguments: { ms: 10_000 } }, undefined, { signal: controller.signal }));
  await waitFor(() => countSlow() === before + 1, WAIT_MS, 'the cancellable request on the wire');
  // The server's handler runs in a chain of microtasks: once the event loop turns, the tool is waiting.
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort('stopped by the caller');
  outcomes.push(await pending);
  // The server is still fine after the cancellation.
  await call({ name: 'echo', arguments: { text: 'after cancel' } });

  await client.close();
  await server.close();
  return { log, outcomes, progress, spans: otel.spans().slice(mark) };
}

describe('differential (in-process): enabled and disabled instrumentation send the same messages', { skip: V1_ONLY }, () => {
  let httpServer: http.Server;
  let fetchUrl: string;
  let disabledRun: InProcessRun;
  let enabledRun: InProcessRun;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let Protocol: any;
  const originals = new Map<string, unknown>();

  before(async () => {
    httpServer = http.createServer((_req, res) => res.end('fetched body'));
    fetchUrl = `http://127.0.0.1:${await listen(httpServer)}/data`;
    Protocol = sdk('shared/protocol.js').Protocol;
  });

  after(async () => {
    instrumentation.enable();
    if (httpServer !== undefined) await closeServer(httpServer);
  });

  test('loading the SDK patched Protocol.prototype (the instrumentation enables itself)', () => {
    const proto = Protocol.prototype;
    const present = PROTOCOL_METHODS.filter((name) => typeof proto[name] === 'function');
    // `_oncancel` exists from the SDK versions that factored cancellation out; the rest always do.
    assert.deepEqual(present.filter((name) => name !== '_oncancel'), PROTOCOL_METHODS.filter((name) => name !== '_oncancel'));
    for (const name of present) {
      assert.equal(isWrapped(proto[name]), true, `${name} is wrapped`);
      const original = originalOf(proto[name]);
      assert.equal(typeof original, 'function');
      assert.equal(isWrapped(original), false, `${name}: the wrapper wraps the SDK's own function`);
      originals.set(name, original);
    }
  });

  test('disable() puts back exactly the SDK functions', () => {
    const proto = Protocol.prototype;
    instrumentation.disable();
    // A pristine copy of the module, loaded while disabled, to compare with.
    const file = sdkPath('shared/protocol.js');
    const cached = require.cache[file];
    delete require.cache[file];
    let pristine: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      pristine = require(file).Protocol.prototype;
    } finally {
      require.cache[file] = cached;
    }
    assert.notEqual(pristine, proto);
    for (const [name, original] of originals) {
      assert.equal(isWrapped(proto[name]), false, `${name} is unwrapped`);
      assert.equal(proto[name], original, `${name} is the function the wrapper wrapped`);
      assert.equal(String(proto[name]), String(pristine[name]), `${name} is the SDK's code`);
      const { value: _restored, ...restored } = Object.getOwnPropertyDescriptor(proto, name)!;
      const { value: _fresh, ...fresh } = Object.getOwnPropertyDescriptor(pristine, name)!;
      assert.deepEqual(restored, fresh, `${name}: property attributes as the SDK defined them`);
    }
    assert.ok(originals.size >= 8);
  });

  test('disabled: a whole in-process session records no MCP span and sends no trace key', async () => {
    disabledRun = await runInProcess(fetchUrl);
    assert.deepEqual(disabledRun.spans.filter((s) => s.attributes['mcp.method.name'] !== undefined).map((s) => s.name), []);
    assert.equal(hasTraceKey(disabledRun.log), false);
    // Every request was answered once, but the two cancelled ones (the timeout and the AbortSignal).
    for (const [asker, answerer] of [
      ['client', 'server'],
      ['server', 'client'],
    ] as const) {
      const asked = disabledRun.log.filter((l) => l.from === asker && l.message.method !== undefined && l.message.id !== undefined);
      const answered = disabledRun.log.filter((l) => l.from === answerer && l.message.method === undefined).map((l) => l.message.id);
      const unanswered = asked.filter((l) => !answered.includes(l.message.id)).map((l) => `${l.message.method} ${String(l.message.params?.name)}`);
      assert.deepEqual(unanswered, asker === 'client' ? ['tools/call slow', 'tools/call slow'] : []);
      assert.equal(answered.length, asked.length - unanswered.length);
    }
  });

  test('enable() wraps again, and a second enable() does not wrap twice', () => {
    const proto = Protocol.prototype;
    instrumentation.enable();
    const first = new Map<string, unknown>();
    for (const [name, original] of originals) {
      assert.equal(isWrapped(proto[name]), true, `${name} is wrapped again`);
      assert.equal(originalOf(proto[name]), original, `${name} wraps the SDK function`);
      first.set(name, proto[name]);
    }
    instrumentation.enable();
    for (const [name, original] of originals) {
      assert.equal(proto[name], first.get(name), `${name}: the second enable() changed nothing`);
      assert.equal(originalOf(proto[name]), original, `${name}: not wrapped twice`);
      assert.equal(isWrapped(originalOf(proto[name])), false);
    }
  });

  test('enabled: the same session sends the same messages apart from the trace keys, and the application sees the same results', async () => {
    enabledRun = await runInProcess(fetchUrl);
    assert.equal(enabledRun.log.length, disabledRun.log.length);
    assert.deepEqual(withoutTraceKeys(enabledRun.log), disabledRun.log);
    assert.deepEqual(enabledRun.outcomes, disabledRun.outcomes);
    // The SDK hands the notification's params, `_meta` included, to `onprogress`: the application sees
    // the trace keys there, as on the wire.
    assert.deepEqual(withoutTraceKeys(enabledRun.progress), disabledRun.progress);
    // The session covered what it meant to.
    const methods = new Set(disabledRun.log.map((l) => l.message.method));
    // Handlers see the request's `_meta` (and so the scenario's progress token) from the SDK versions
    // whose `_onrequest` passes it on.
    const handlersSeeMeta = /\b_meta\b/.test(String(originals.get('_onrequest')));
    const expected = ['sampling/createMessage', 'roots/list', 'notifications/message', 'notifications/cancelled'];
    if (handlersSeeMeta) expected.push('notifications/progress');
    for (const method of expected) {
      assert.ok(methods.has(method), `the session sent ${method}`);
    }
    assert.equal(disabledRun.progress.length, disabledRun.log.filter((l) => l.message.method === 'notifications/progress').length);
  });

  test('enabled: every request and notification carries the traceparent of its CLIENT span (except notifications/cancelled)', () => {
    const spans = enabledRun.spans;
    const checked: string[] = [];
    for (const { from, message } of enabledRun.log) {
      if (message.method === undefined) {
        assert.equal(hasTraceKey(message), false, `a response carries trace keys: ${JSON.stringify(message)}`);
        continue;
      }
      const meta = message.params?._meta as Record<string, unknown> | undefined;
      // The SDK sends notifications/cancelled through the transport itself, not through notification().
      if (message.method === 'notifications/cancelled') continue;
      const what = `${from} → ${message.method} ${JSON.stringify(message.params ?? {}).slice(0, 120)}`;
      const match = TRACEPARENT.exec(String(meta?.traceparent));
      assert.ok(match !== null, `${what}: no valid traceparent`);
      const [, traceId, spanId] = match;
      const sender = spans.filter((s) => s.spanContext().spanId === spanId);
      assert.equal(sender.length, 1, `${what}: the traceparent names one span`);
      assert.equal(sender[0]!.kind, SpanKind.CLIENT, `${what}: a CLIENT span`);
      assert.equal(sender[0]!.spanContext().traceId, traceId);
      assert.equal(sender[0]!.attributes['mcp.method.name'], message.method);
      // notifications/cancelled carries no `_meta`: delivered synchronously in memory, its SERVER span
      // takes the ambient context, the cancelled request's CLIENT span. Not what this checks.
      const receivers = spans.filter(
        (s) => s.kind === SpanKind.SERVER && parentSpanIdOf(s) === spanId && s.attributes['mcp.method.name'] !== 'notifications/cancelled',
      );
      assert.deepEqual(
        receivers.map((s) => [s.attributes['mcp.method.name'], s.spanContext().traceId]),
        [[message.method, traceId]],
        `${what}: the receiving SERVER span is its child`,
      );
      checked.push(`${from} ${message.method}`);
    }
    for (const expected of ['client initialize', 'client notifications/initialized', 'client tools/call', 'server sampling/createMessage', 'server roots/list', 'server notifications/message']) {
      assert.ok(checked.includes(expected), `checked ${expected}`);
    }
  });

  test(
    // SDKs 1.10–1.12 replace params._meta when onprogress is given; the instrumentation restores the keys.
    'enabled: a request sent with onprogress carries the traceparent of its CLIENT span',
    () => {
      const sent = enabledRun.log.filter((l) => l.from === 'client' && isProgressRequest(l.message));
      assert.equal(sent.length, 1);
      const meta = sent[0]!.message.params?._meta as Record<string, unknown> | undefined;
      assert.equal(typeof meta?.progressToken, 'number', 'the SDK added its progress token');
      const match = TRACEPARENT.exec(String(meta?.traceparent));
      assert.ok(match !== null, `no valid traceparent in ${JSON.stringify(meta)}`);
      const sender = enabledRun.spans.filter((s) => s.spanContext().spanId === match[2]);
      assert.deepEqual(
        sender.map((s) => [s.name, s.kind]),
        [['tools/call progress', SpanKind.CLIENT]],
      );
    },
  );

  test("enabled: the caller's params and _meta objects are not modified", async () => {
    const mcp = mcpSdk();
    const { Client, InMemoryTransport, types } = mcp;
    const server = scenario.createScenarioServer(mcp, { name: 'diff-server' });
    const client = new Client(scenario.CLIENT_INFO, scenario.clientCapabilities(mcp));
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const received: Message[] = [];
    const send = clientTransport.send.bind(clientTransport);
    clientTransport.send = (message: Message, options?: unknown) => {
      received.push(JSON.parse(JSON.stringify(message)) as Message);
      return send(message, options);
    };
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    try {
      const meta = { custom: 'kept', nested: { a: 1 } };
      const params = { name: 'echo', arguments: { text: 'mine' }, _meta: meta };
      const snapshot = structuredClone(params);
      await client.callTool(params);
      assert.deepEqual(params, snapshot);
      assert.equal(params._meta, meta, 'the same _meta object');
      const sent = received.at(-1)!;
      assert.deepEqual(withoutTraceKeys(sent.params), { ...params, _meta: meta }, 'the caller\'s params and _meta keys went out unchanged');
      assert.match(String((sent.params?._meta as { traceparent?: unknown }).traceparent), TRACEPARENT);

      const bare = { name: 'echo', arguments: { text: 'no meta' } };
      const bareSnapshot = structuredClone(bare);
      await client.callTool(bare);
      assert.deepEqual(bare, bareSnapshot);
      assert.equal('_meta' in bare, false, 'no _meta added to the caller object');

      const message = { method: 'tools/call', params: { name: 'echo', arguments: { text: 'raw request' }, _meta: { custom: 'x' } } };
      const messageParams = message.params;
      const messageMeta = message.params._meta;
      const messageSnapshot = structuredClone(message);
      await client.request(message, types.CallToolResultSchema);
      assert.deepEqual(message, messageSnapshot);
      assert.equal(message.params, messageParams);
      assert.equal(message.params._meta, messageMeta);

      const progressMeta = { custom: 'with progress' };
      const progressParams = { name: 'progress', arguments: { steps: 1 }, _meta: progressMeta };
      const progressSnapshot = structuredClone(progressParams);
      await client.callTool(progressParams, undefined, { onprogress: () => undefined });
      assert.deepEqual(progressParams, progressSnapshot);
      assert.equal(progressParams._meta, progressMeta);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
