import { AsyncLocalStorage } from 'node:async_hooks';
import type { McpOperation } from './operations';
import type { McpLogLevel } from './protocol-logging';
import type { McpRole } from './types';
import type { ProtocolLike, TransportLike } from './internal-types';
import { NETWORK_TRANSPORT_VALUE_PIPE, NETWORK_TRANSPORT_VALUE_TCP } from './semconv';

/**
 * What is known about one connection of one Protocol (a Server or a Client attached to a transport):
 * the transport's kind and peer, the negotiated protocol version, the peer's self-description, and the
 * operations still in flight so that none outlives the connection.
 */
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
  /** `performance.now()` when the connection was made, for the session-duration metric. */
  openedAt: number;
  /** Class name of the last transport error seen before the connection closed. */
  lastErrorType: string | undefined;
  closed: boolean;
  /** The level the peer subscribed to with `logging/setLevel` (servers), if it did. */
  logLevel: McpLogLevel | undefined;
  /** Received requests by JSON-RPC id, received notifications by their operation object. */
  readonly incoming: Map<unknown, McpOperation>;
  /** Sent requests by message id, sent notifications by their operation object. */
  readonly outgoing: Map<unknown, McpOperation>;
  /**
   * What every span of an operation kind starts with on this connection (see `operations.ts`), built
   * once; dropped whenever what they are made of (version, peer, session) changes.
   */
  templates: OperationTemplates | undefined;
}

/** Per direction, per method (and per tool or prompt name): the attributes and names operations share. */
export interface OperationTemplates {
  /** The transport's session id the templates were made with. */
  readonly sessionId: unknown;
  /** By method, for operations without a tool or prompt name. */
  readonly incoming: Map<string, unknown>;
  readonly outgoing: Map<string, unknown>;
  /** By method, then by tool or prompt name. */
  readonly incomingByName: Map<string, Map<string, unknown>>;
  readonly outgoingByName: Map<string, Map<string, unknown>>;
  /** Entries in both maps together (bounded: methods and names can be chosen by the peer). */
  size: number;
}

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

function createState(protocol: ProtocolLike, transport: TransportLike | undefined): ConnectionState {
  let networkTransport: string | undefined;
  let networkProtocolName: string | undefined;
  let networkProtocolVersion: string | undefined;
  let serverAddress: string | undefined;
  let serverPort: number | undefined;
  const kind = transport?.constructor?.name;
  switch (kind) {
    case 'StdioServerTransport':
    case 'StdioClientTransport':
      networkTransport = NETWORK_TRANSPORT_VALUE_PIPE;
      break;
    case 'StreamableHTTPServerTransport':
    case 'WebStandardStreamableHTTPServerTransport':
    case 'NodeStreamableHTTPServerTransport':
    case 'PerRequestHTTPServerTransport':
    case 'StreamableHTTPClientTransport':
    case 'SSEServerTransport':
    case 'SSEClientTransport':
      networkTransport = NETWORK_TRANSPORT_VALUE_TCP;
      networkProtocolName = 'http';
      break;
    default:
      break;
  }
  const url = transport?._url;
  if (url instanceof URL) {
    serverAddress = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    serverPort = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  }
  return {
    protocol,
    transport,
    role: roleOf(protocol),
    networkTransport,
    networkProtocolName,
    networkProtocolVersion,
    serverAddress,
    serverPort,
    protocolVersion: undefined,
    peerName: undefined,
    peerVersion: undefined,
    openedAt: performance.now(),
    lastErrorType: undefined,
    closed: false,
    logLevel: undefined,
    incoming: new Map(),
    outgoing: new Map(),
    templates: undefined,
  };
}

const mcpServers = new WeakMap<object, object>();

/** Records that `mcpServer` (an `McpServer`) drives the protocol object `server` (its `.server`). */
export function registerMcpServer(server: object, mcpServer: object): void {
  mcpServers.set(server, mcpServer);
}

/**
 * Whether the `McpServer` behind `protocol` has a tool (`tools/call`) or prompt (`prompts/get`) of
 * that name; `undefined` when it cannot be known (a low-level `Server`, another SDK layout).
 */
export function isRegisteredTarget(protocol: object, method: string, name: string): boolean | undefined {
  const mcpServer = mcpServers.get(protocol) as { _registeredTools?: unknown; _registeredPrompts?: unknown } | undefined;
  if (mcpServer === undefined) return undefined;
  const registry = method === 'tools/call' ? mcpServer._registeredTools : mcpServer._registeredPrompts;
  if (registry instanceof Map) return registry.has(name);
  if (registry === null || typeof registry !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(registry, name);
}

/** The network peer of the HTTP request an MCP message arrived on (server side of HTTP transports). */
export interface HttpPeer {
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly protocolVersion: string | undefined;
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
  return { address, port, protocolVersion };
}
