/*
 * v2's Web-standard HTTP entries (`createMcpHandler`'s `fetch`, which `toNodeHandler` calls, and
 * `WebStandardStreamableHTTPServerTransport.handleRequest`, which the Node transport calls): a JSON-RPC
 * message they refuse before any server dispatches it gets its SERVER span, and `subscriptions/listen`,
 * which `createMcpHandler` serves without a server, its operation. What is sent is never changed.
 */
import { context } from '@opentelemetry/api';
import { anonymousHttpExchange, detachedServerConnection, httpPeerStorage, type HttpPeer } from '../connection';
import type { JsonRpcMessageLike } from '../internal-types';
import type { McpOperation } from '../operation/operation';
import { startIncoming, startOutgoing } from '../operation/start';
import { authInfoOf } from '../operation/user';
import { ATTR_MCP_PROTOCOL_VERSION, META_KEY_CLIENT_INFO, META_KEY_PROTOCOL_VERSION } from '../semconv';
import type { AnyFn, PatchKit } from './kit';
import { DEFAULT_MAX_BODY_BYTES, readableJsonPost, readJsonBody, type ReadBody } from './request-body';

/** Most of a request body read (from a clone) to describe a refused request; a longer one is not described. */
const MAX_REQUEST_BYTES = 1 << 20;
/** Most of an error response read to learn its JSON-RPC error. */
const MAX_RESPONSE_BYTES = 1 << 16;
/** Longest method, version, or client name and version taken from a peer's message. */
const MAX_FIELD_LENGTH = 256;
const MAX_VERSION_LENGTH = 32;
const ERROR_CODE_UNSUPPORTED_VERSION = -32022;

/** The spec's methods (2025 and 2026-07-28): any other method of a refusal is the peer's choice (`_OTHER` on metrics). */
const SPEC_METHODS = new Set([
  'initialize', 'ping', 'server/discover', 'subscriptions/listen', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get',
  'resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'completion/complete', 'logging/setLevel', 'sampling/createMessage', 'elicitation/create', 'roots/list',
  'tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel', 'notifications/initialized', 'notifications/cancelled',
  'notifications/progress', 'notifications/roots/list_changed', 'notifications/message',
]);

interface RequestLike {
  method?: unknown;
  bodyUsed?: unknown;
  headers?: { get?(name: string): string | null };
  clone?(): { body?: ReadableStream<Uint8Array> | null };
}

interface ResponseLike {
  status?: unknown;
  headers?: { get?(name: string): string | null };
  clone?(): { body?: ReadableStream<Uint8Array> | null };
}

/** What is kept of one watched request: its body as parsed by the caller, or a clone of it to read if needed. */
interface Plan {
  readonly request: RequestLike;
  readonly parsed: unknown;
  readonly clone: { body?: ReadableStream<Uint8Array> | null } | undefined;
  readonly headerMethod: string | null;
  readonly authInfo: unknown;
}

/** Marks the entries this module wrapped. */
const OURS = Symbol('opentelemetry-instrumentation-mcp.http-exchange');

/** At most `maxBytes` of a body, as text; `undefined` when it is longer or cannot be read. */
async function readBounded(body: ReadableStream<Uint8Array> | null | undefined, maxBytes: number): Promise<string | undefined> {
  if (body === null || body === undefined) return undefined;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    received += value.byteLength;
    if (received > maxBytes) {
      void reader.cancel().catch(() => undefined);
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A single JSON-RPC request or notification (a batch, a response or anything else is HTTP's to trace). */
function asMessage(value: unknown): JsonRpcMessageLike | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const method = (value as JsonRpcMessageLike).method;
  return typeof method === 'string' && method !== '' && method.length <= MAX_FIELD_LENGTH ? (value as JsonRpcMessageLike) : undefined;
}

function boundedString(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

/** The protocol version and client a 2026-07-28 request's `_meta` envelope claims. */
function envelopeOf(params: unknown): { version: string | undefined; clientName: string | undefined; clientVersion: string | undefined } {
  const meta = params !== null && typeof params === 'object' ? (params as { _meta?: unknown })._meta : undefined;
  if (meta === null || typeof meta !== 'object') return { version: undefined, clientName: undefined, clientVersion: undefined };
  const envelope = meta as Record<string, unknown>;
  const info = envelope[META_KEY_CLIENT_INFO] as { name?: unknown; version?: unknown } | null | undefined;
  return {
    version: boundedString(envelope[META_KEY_PROTOCOL_VERSION], MAX_VERSION_LENGTH),
    clientName: info !== null && typeof info === 'object' ? boundedString(info.name, MAX_FIELD_LENGTH) : undefined,
    clientVersion: info !== null && typeof info === 'object' ? boundedString(info.version, MAX_FIELD_LENGTH) : undefined,
  };
}

/**
 * The SERVER-span operation of a message the entry answers itself. `versionOnMetrics`: whether the
 * claimed version is one the server serves (an unsupported claim is the peer's choice: span only).
 */
function startDetached(kit: PatchKit, message: JsonRpcMessageLike, authInfo: unknown, versionOnMetrics: boolean): McpOperation {
  const envelope = envelopeOf(message.params);
  const conn = detachedServerConnection(versionOnMetrics ? envelope.version : undefined, envelope.clientName, envelope.clientVersion);
  const method = message.method as string;
  const op = startIncoming(kit.host, conn, method, message, message.id !== undefined, undefined, authInfo);
  if (!versionOnMetrics && envelope.version !== undefined && op.span.isRecording()) op.span.setAttribute(ATTR_MCP_PROTOCOL_VERSION, envelope.version);
  if (!SPEC_METHODS.has(method)) op.unhandled = true;
  return op;
}

/** The message of a watched request: the caller's parsed body, or the clone read (only once the SDK read the original). */
async function messageOf(plan: Plan): Promise<JsonRpcMessageLike | undefined> {
  if (plan.parsed !== undefined) return asMessage(plan.parsed);
  if (plan.clone === undefined || plan.request.bodyUsed !== true) return undefined;
  return asMessage(parseObject(await readBounded(plan.clone.body, MAX_REQUEST_BYTES)));
}

/** The JSON-RPC error of a JSON response, if it carries one. */
async function errorOf(response: ResponseLike): Promise<{ code: number; message: unknown } | undefined> {
  const type = response.headers?.get?.('content-type');
  if (typeof type !== 'string' || !type.includes('application/json') || typeof response.clone !== 'function') return undefined;
  const error = parseObject(await readBounded(response.clone().body, MAX_RESPONSE_BYTES))?.error as { code?: unknown; message?: unknown } | undefined;
  if (error === null || typeof error !== 'object' || !Number.isSafeInteger(error.code)) return undefined;
  return { code: error.code as number, message: error.message };
}

/** A refused message: its SERVER span, ended with the JSON-RPC error answered. */
async function recordRefusal(kit: PatchKit, plan: Plan, response: ResponseLike): Promise<void> {
  const error = await errorOf(response);
  if (error === undefined) return;
  const message = await messageOf(plan);
  if (message === undefined || !kit.traces(message.method)) return;
  startDetached(kit, message, plan.authInfo, error.code !== ERROR_CODE_UNSUPPORTED_VERSION).finishError(error);
}

/**
 * `subscriptions/listen` answered: its SERVER span ends when the subscription is acknowledged (the
 * stream opened with the acknowledgement, which gets its CLIENT span), or with the error answered.
 */
async function finishListen(kit: PatchKit, listen: McpOperation, response: ResponseLike): Promise<void> {
  const type = response.headers?.get?.('content-type');
  if (response.status === 200 && typeof type === 'string' && type.includes('text/event-stream')) {
    const ack = context.with(listen.ctx, () => startOutgoing(kit.host, listen.conn, 'notifications/subscriptions/acknowledged', {}, false, undefined));
    ack.finishResult(undefined);
    listen.finishResult(undefined);
    return;
  }
  const error = await errorOf(response);
  if (error !== undefined) listen.finishError(error);
  else listen.finishResult(undefined);
}

function planOf(request: unknown, options: unknown): Plan | undefined {
  const req = request as RequestLike | null | undefined;
  if (req === null || typeof req !== 'object' || req.method !== 'POST' || typeof req.headers?.get !== 'function') return undefined;
  const parsed = (options as { parsedBody?: unknown } | undefined)?.parsedBody;
  if (parsed === undefined && (req.bodyUsed === true || typeof req.clone !== 'function')) return undefined;
  return {
    request: req,
    parsed,
    clone: parsed === undefined ? req.clone!() : undefined,
    headerMethod: req.headers.get('mcp-method'),
    authInfo: authInfoOf(options),
  };
}

async function watch(kit: PatchKit, exchange: HttpPeer, own: boolean, plan: Plan, run: () => unknown): Promise<unknown> {
  let listen: McpOperation | undefined;
  if (plan.headerMethod === 'subscriptions/listen' && kit.traces(plan.headerMethod)) {
    try {
      // The span must exist before the SDK opens the stream: the request is read first.
      const message = await messageOf({ ...plan, request: { bodyUsed: true } });
      if (message?.method === 'subscriptions/listen') listen = startDetached(kit, message, plan.authInfo, true);
      exchange.listen = listen;
    } catch (error) {
      kit.diag.error('could not start a subscriptions/listen span', error);
    }
  }
  let response: unknown;
  try {
    response = await (own ? httpPeerStorage.run(exchange, run) : run());
  } catch (error) {
    listen?.finishError(error);
    throw error;
  }
  try {
    if (listen !== undefined) await finishListen(kit, listen, response as ResponseLike);
    else if (!exchange.served && ((response as ResponseLike | null)?.status as number) >= 400) await recordRefusal(kit, plan, response as ResponseLike);
  } catch (error) {
    kit.diag.error('could not record a refused request', error);
  }
  return response;
}

/** A Web-standard entry `(request, options)` watched for refusals and `subscriptions/listen`. */
function watchedEntry(kit: PatchKit, original: AnyFn): AnyFn {
  const entry = function (this: unknown, request: unknown, options: unknown): unknown {
    let outer: HttpPeer | undefined;
    let plan: Plan | undefined;
    try {
      // `traces('')`: enabled and recording (the method is not known yet).
      outer = kit.traces('') ? httpPeerStorage.getStore() : undefined;
      plan = kit.traces('') && outer?.watched !== true ? planOf(request, options) : undefined;
    } catch (error) {
      kit.diag.error('could not watch an HTTP request', error);
      plan = undefined;
    }
    if (plan === undefined) return original.apply(this, arguments as unknown as unknown[]);
    const exchange = outer ?? anonymousHttpExchange();
    exchange.watched = true;
    const args = arguments;
    return watch(kit, exchange, outer === undefined, plan, () => original.apply(this, args as unknown as unknown[]));
  };
  (entry as { [OURS]?: true })[OURS] = true;
  return entry as AnyFn;
}

/** `WebStandardStreamableHTTPServerTransport.prototype.handleRequest(request, options)`. */
export function webEntryWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) => watchedEntry(kit, original);
}

/**
 * `createMcpHandler`'s `fetch`, watched; a POST's JSON body is read here and handed to the SDK parsed
 * (./request-body), so that no request is cloned.
 */
function readingFetch(kit: PatchKit, original: AnyFn, maxBytes: number): AnyFn {
  const watched = watchedEntry(kit, original);
  const entry = function (this: unknown, request: unknown, options: unknown): unknown {
    let read: Promise<ReadBody> | undefined;
    try {
      if (kit.traces('') && httpPeerStorage.getStore()?.watched !== true && readableJsonPost(request, options)) read = readJsonBody(request, maxBytes);
    } catch (error) {
      kit.diag.error('could not read an HTTP request body', error);
    }
    if (read === undefined) return watched.apply(this, arguments as unknown as unknown[]);
    const self = this;
    return read.then(
      (body) =>
        body.replay !== undefined
          ? watched.call(self, body.replay, options)
          : watched.call(self, request, { ...(options as object | undefined), parsedBody: body.parsed }),
      // Nothing was read: the request goes on as it came.
      () => watched.call(self, request, options),
    );
  };
  (entry as { [OURS]?: true })[OURS] = true;
  return entry as AnyFn;
}

/** `createMcpHandler(factory, options)`: the `fetch` of the handler it makes is watched. */
export function createMcpHandlerWrapper(kit: PatchKit): (original: AnyFn) => AnyFn {
  return (original) =>
    function createMcpHandler(this: unknown): unknown {
      const handler = original.apply(this, arguments as unknown as unknown[]) as { fetch?: unknown } | null;
      try {
        const fetch = handler?.fetch;
        const limit = (arguments[1] as { maxRequestBodySize?: unknown } | undefined)?.maxRequestBodySize;
        const maxBytes = typeof limit === 'number' && Number.isFinite(limit) && limit > 0 ? limit : DEFAULT_MAX_BODY_BYTES;
        if (typeof fetch === 'function' && (fetch as { [OURS]?: true })[OURS] !== true) handler!.fetch = readingFetch(kit, fetch as AnyFn, maxBytes);
      } catch (error) {
        kit.diag.error('could not watch a createMcpHandler handler', error);
      }
      return handler;
    };
}
