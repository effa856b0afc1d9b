/*
 * What is known about one connection of one Server or Client: its transport and peer, the negotiated
 * protocol version, the operations in flight. The ground floor: it imports nothing of this package but
 * the length cap, types and constants, and learns about the connection from the SDK's objects and the messages exchanged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Span } from '@opentelemetry/api';
import { capPeerString } from './content/cut';
import type { McpRole } from './types';
import type { JsonRpcMessageLike, ProtocolLike, TransportLike } from './internal-types';
import { NETWORK_TRANSPORT_VALUE_PIPE, NETWORK_TRANSPORT_VALUE_TCP } from './semconv';

/** An operation in flight on a connection, as the connection sees it (ended on close). */
export interface InFlightOperation {
  readonly isRequest: boolean;
  readonly span: Span;
  readonly ctx: Context;
  /** The connection closed while it was in flight: it will end as closed. */
  markClosed(): void;
  /** Ends it now as closed, unless it ended already. */
  finishClosed(): void;
  /** Ends a received request as cancelled by the peer. */
  finishCancelled(reason: unknown): void;
  /** The JSON-RPC error the peer answered a sent request with. */
  wireError: { code: number; message: string | undefined } | undefined;
}

export interface ConnectionState {
  /** The Server or Client this connection belongs to. */
  readonly protocol: object;
  readonly transport: TransportLike | undefined;
  readonly role: McpRole | undefined;
  readonly networkTransport: string | undefined;
  readonly networkProtocolName: string | undefined;
  readonly networkProtocolVersion: string | undefined;
  readonly serverAddress: string | undefined;
  readonly serverPort: number | undefined;
  protocolVersion: string | undefined;
  peerName: string | undefined;
  peerVersion: string | undefined;
  /**
   * Incremented whenever what describes the connection (version, peer) changes, so that whatever was
   * built from it (attribute templates) is built again.
   */
  revision: number;
  /** `performance.now()` when the connection was made, for the session-duration metric. */
  openedAt: number;
  /** Class name of the last transport error seen before the connection closed. */
  lastErrorType: string | undefined;
  closed: boolean;
  /** Received requests by JSON-RPC id, received notifications by their operation object (made on first use). */
  incoming: Map<unknown, InFlightOperation> | undefined;
  /** Sent requests by message id, sent notifications by their operation object (made on first use). */
  outgoing: Map<unknown, InFlightOperation> | undefined;
  /** The span templates of connections described as this one is (../operation/templates), and the revision they were taken at. */
  templateSet: object | undefined;
  templateRevision: number;
}

/** The operations in flight on `conn` in one direction (none: an empty iteration). */
export function inFlight(conn: ConnectionState, direction: 'incoming' | 'outgoing'): Iterable<InFlightOperation> {
  return conn[direction]?.values() ?? NONE;
}

const NONE: readonly InFlightOperation[] = [];

const states = new WeakMap<object, ConnectionState>();

/** The state of the protocol's current connection, created on first use and renewed on reconnect. */
export function connectionOf(protocol: ProtocolLike): ConnectionState {
  const transport = protocol._transport;
  let state = states.get(protocol);
  if (state === undefined || (transport !== undefined && state.transport !== transport)) {
    state = createState(protocol, transport);
    states.set(protocol, state);
  }
  return state;
}

/** The state of the protocol's connection if one was ever created, without creating one. */
export function existingConnectionOf(protocol: object): ConnectionState | undefined {
  return states.get(protocol);
}

function roleOf(protocol: ProtocolLike): McpRole | undefined {
  if (typeof protocol._oninitialize === 'function') return 'server';
  if (typeof protocol.getServerVersion === 'function') return 'client';
  return undefined;
}

/** `network.transport` and `network.protocol.name` of an SDK transport, by its class. */
export function networkOfTransport(kind: string | undefined): { transport: string | undefined; protocolName: string | undefined } {
  switch (kind) {
    case 'StdioServerTransport':
    case 'StdioClientTransport':
      return { transport: NETWORK_TRANSPORT_VALUE_PIPE, protocolName: undefined };
    case 'StreamableHTTPServerTransport':
    case 'WebStandardStreamableHTTPServerTransport':
    case 'NodeStreamableHTTPServerTransport':
    case 'PerRequestHTTPServerTransport':
    case 'StreamableHTTPClientTransport':
    case 'SSEServerTransport':
    case 'SSEClientTransport':
      return { transport: NETWORK_TRANSPORT_VALUE_TCP, protocolName: 'http' };
    default:
      return { transport: undefined, protocolName: undefined };
  }
}

/** `server.address` and `server.port` of a client transport's URL (IPv6 brackets removed, default ports filled in). */
export function serverOfUrl(url: unknown): { address: string | undefined; port: number | undefined } {
  if (!(url instanceof URL)) return { address: undefined, port: undefined };
  const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { address, port };
}

function createState(protocol: ProtocolLike, transport: TransportLike | undefined): ConnectionState {
  const network = networkOfTransport(transport?.constructor?.name);
  const server = serverOfUrl(transport?._url);
  return {
    protocol,
    transport,
    role: roleOf(protocol),
    networkTransport: network.transport,
    networkProtocolName: network.protocolName,
    networkProtocolVersion: undefined,
    serverAddress: server.address,
    serverPort: server.port,
    protocolVersion: undefined,
    peerName: undefined,
    peerVersion: undefined,
    revision: 0,
    openedAt: performance.now(),
    lastErrorType: undefined,
    closed: false,
    incoming: undefined,
    outgoing: undefined,
    templateSet: undefined,
    templateRevision: -1,
  };
}

function setPeer(conn: ConnectionState, info: unknown): void {
  if (info === null || typeof info !== 'object') return;
  const { name, version } = info as { name?: unknown; version?: unknown };
  if (typeof name === 'string') conn.peerName = capPeerString(name);
  if (typeof version === 'string') conn.peerVersion = capPeerString(version);
}

/** Learns the negotiated version and the peer from an `initialize` exchange (either side). */
export function learnFromInitialize(conn: ConnectionState, params: unknown, result: unknown): void {
  if (result === null || typeof result !== 'object') return;
  const version = (result as { protocolVersion?: unknown }).protocolVersion;
  if (typeof version === 'string') conn.protocolVersion = version;
  setPeer(conn, conn.role === 'server' ? (params as { clientInfo?: unknown } | undefined)?.clientInfo : (result as { serverInfo?: unknown }).serverInfo);
  conn.revision++;
}

/**
 * Learns the negotiated version and peer from the SDK's object, after a reconnect that skipped
 * `initialize`, or on a v2 server serving a modern-era request (version and client come with it).
 */
export function learnFromProtocol(conn: ConnectionState, protocol: ProtocolLike): void {
  const before = conn.peerName;
  // v2 keeps the negotiated version on both sides (also when negotiated without initialize).
  const negotiated = (protocol as { _negotiatedProtocolVersion?: unknown })._negotiatedProtocolVersion;
  if (typeof negotiated === 'string') conn.protocolVersion = negotiated;
  if (conn.role === 'client') {
    const transportVersion = (conn.transport as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (conn.protocolVersion === undefined && typeof transportVersion === 'string') conn.protocolVersion = transportVersion;
  } else if (conn.role !== 'server') {
    return;
  }
  if (conn.peerName === undefined) {
    setPeer(conn, conn.role === 'client' ? (protocol as { _serverVersion?: unknown })._serverVersion : (protocol as { _clientVersion?: unknown })._clientVersion);
  }
  if (conn.protocolVersion !== undefined || conn.peerName !== before) conn.revision++;
}

/**
 * A message received by a v2 `Protocol` that has negotiated no version: in a stateless exchange the
 * version is the `MCP-Protocol-Version` header of the HTTP request, when the server supports it (so a
 * peer cannot put arbitrary values on metrics). Cheap when a version was negotiated: one property read.
 */
export function learnStatelessProtocolVersion(protocol: ProtocolLike, message: JsonRpcMessageLike, extra: unknown): void {
  const v2 = protocol as { _negotiatedProtocolVersion?: unknown; _supportedProtocolVersions?: unknown };
  if (v2._negotiatedProtocolVersion !== undefined || message.method === 'initialize') return;
  const headers = (extra as { request?: { headers?: { get?: unknown } } } | undefined)?.request?.headers;
  if (typeof headers?.get !== 'function') return;
  const version: unknown = (headers as { get(name: string): unknown }).get('mcp-protocol-version');
  const supported = v2._supportedProtocolVersions;
  if (typeof version !== 'string' || !Array.isArray(supported) || !supported.includes(version)) return;
  const conn = connectionOf(protocol);
  if (conn.protocolVersion === undefined) {
    conn.protocolVersion = version;
    conn.revision++;
  }
}

const mcpServers = new WeakMap<object, object>();

/** Records that `mcpServer` (an `McpServer`) drives the protocol object `server` (its `.server`). */
export function registerMcpServer(server: object, mcpServer: object): void {
  mcpServers.set(server, mcpServer);
}

/** Names a server advertised in its `tools/list` and `prompts/list` results, per server object. */
interface Advertised {
  readonly tools: Set<string>;
  readonly prompts: Set<string>;
}

const advertised = new WeakMap<object, Advertised>();

/** Names remembered per kind and server; a catalogue larger than this is not remembered beyond it. */
const MAX_ADVERTISED = 4096;

/** Learns the tool or prompt names in a `tools/list` / `prompts/list` result the server sent. */
export function learnAdvertised(protocol: object, method: string, result: unknown): void {
  const key = method === 'tools/list' ? 'tools' : method === 'prompts/list' ? 'prompts' : undefined;
  if (key === undefined || result === null || typeof result !== 'object') return;
  const items = (result as Record<string, unknown>)[key];
  if (!Array.isArray(items)) return;
  let known = advertised.get(protocol);
  if (known === undefined) advertised.set(protocol, (known = { tools: new Set(), prompts: new Set() }));
  const names = known[key];
  for (const item of items) {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && names.size < MAX_ADVERTISED) names.add(name);
  }
}

/**
 * Whether the server behind `protocol` has a tool (`tools/call`) or prompt (`prompts/get`) of that
 * name: one an `McpServer` registered, one the server advertised in a list result, or one the user
 * named in `allowed`. Any other name was chosen by the peer.
 */
export function isKnownTarget(protocol: object, method: string, name: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.has(name)) return true;
  const mcpServer = mcpServers.get(protocol) as { _registeredTools?: unknown; _registeredPrompts?: unknown } | undefined;
  if (mcpServer !== undefined) {
    const registry = method === 'tools/call' ? mcpServer._registeredTools : mcpServer._registeredPrompts;
    if (registry instanceof Map) return registry.has(name);
    if (registry !== null && typeof registry === 'object') return Object.prototype.hasOwnProperty.call(registry, name);
  }
  const known = advertised.get(protocol);
  if (known === undefined) return false;
  return (method === 'tools/call' ? known.tools : known.prompts).has(name);
}

/**
 * The network peer of the HTTP request an MCP message arrived on (server side of HTTP transports), and
 * what the instrumentation learnt of that one HTTP exchange while the SDK served it.
 */
export interface HttpPeer {
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly protocolVersion: string | undefined;
  /** A SERVER-span operation started for a message of this exchange (the SDK dispatched it). */
  served: boolean;
  /** An outer Web-standard entry already watches this exchange for refusals. */
  watched: boolean;
  /** The `subscriptions/listen` operation this exchange carries, whose stream's notifications are its children. */
  listen: InFlightOperation | undefined;
}

/**
 * Carries the HTTP peer from the patched `handleRequest` / `handlePostMessage` of the SDK's HTTP server
 * transports to the handling of the MCP messages in that request (the SDK keeps the async context).
 */
export const httpPeerStorage = new AsyncLocalStorage<HttpPeer>();

interface IncomingMessageLike {
  httpVersion?: unknown;
  socket?: { remoteAddress?: unknown; remotePort?: unknown } | null;
}

/** The peer of a Node `IncomingMessage`, or `undefined` when it is not one. */
export function httpPeerOf(req: unknown): HttpPeer | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  const { httpVersion, socket } = req as IncomingMessageLike;
  const address = typeof socket?.remoteAddress === 'string' ? socket.remoteAddress : undefined;
  const port = typeof socket?.remotePort === 'number' ? socket.remotePort : undefined;
  let protocolVersion: string | undefined;
  if (httpVersion === '1.1' || httpVersion === '1.0') protocolVersion = httpVersion;
  else if (httpVersion === '2.0') protocolVersion = '2';
  if (address === undefined && protocolVersion === undefined) return undefined;
  return { address, port, protocolVersion, served: false, watched: false, listen: undefined };
}

/** An exchange whose network peer is not known (a Web-standard `Request`). */
export function anonymousHttpExchange(): HttpPeer {
  return { address: undefined, port: undefined, protocolVersion: undefined, served: false, watched: false, listen: undefined };
}

/**
 * The connection of a message served without a `Protocol` instance (a stateless HTTP entry refusing a
 * request before any server exists, or serving `subscriptions/listen` itself): a server over HTTP,
 * described by what the request's per-request envelope claims.
 */
export function detachedServerConnection(protocolVersion: string | undefined, peerName: string | undefined, peerVersion: string | undefined): ConnectionState {
  const state = createState({}, { constructor: { name: 'WebStandardStreamableHTTPServerTransport' } });
  (state as { role: McpRole | undefined }).role = 'server';
  state.protocolVersion = protocolVersion;
  state.peerName = peerName;
  state.peerVersion = peerVersion;
  return state;
}
