/*
 * The one builder of connection and peer attributes: spans, both duration metrics, the protocol-logging
 * bridge (and, through the spans, the JSON log and the audit) describe a connection with the same keys.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { ConnectionState } from './connection';
import {
  ATTR_MCP_CLIENT_NAME,
  ATTR_MCP_CLIENT_VERSION,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SERVER_VERSION,
  ATTR_MCP_SESSION_ID,
} from './semconv';

/** `mcp.protocol.version`. */
export const CONN_VERSION = 1;
/** `mcp.session.id` (high cardinality: never on metrics). */
export const CONN_SESSION = 2;
/** `network.transport`, `network.protocol.name`, `network.protocol.version`. */
export const CONN_NETWORK = 4;
/** `mcp.client.*` on a server, `mcp.server.*` on a client: the peer's name and version (never on metrics). */
export const CONN_PEER = 8;
/** `server.address` and `server.port`: only where this process is the client. */
export const CONN_SERVER = 16;

/** What spans start with. */
export const SPAN_CONNECTION = CONN_VERSION | CONN_SESSION | CONN_NETWORK | CONN_PEER;
/** What the duration metrics carry: bounded values only. */
export const METRIC_CONNECTION = CONN_VERSION | CONN_NETWORK;
/** What bridged MCP log records carry. */
export const LOG_CONNECTION = CONN_VERSION | CONN_SESSION | CONN_PEER;

/** The transport's session id, when it has a non-empty one. */
export function sessionIdOf(conn: ConnectionState): string | undefined {
  const sessionId = conn.transport?.sessionId;
  return typeof sessionId === 'string' && sessionId !== '' ? sessionId : undefined;
}

/**
 * Adds to `into` the attributes of `conn` named by `parts` (a sum of the `CONN_*` flags).
 * `httpVersion`: the HTTP version of the request at hand, when it is known and differs by request.
 */
export function addConnectionAttributes(into: Attributes, conn: ConnectionState, parts: number, httpVersion?: string): void {
  if ((parts & CONN_VERSION) !== 0 && conn.protocolVersion !== undefined) into[ATTR_MCP_PROTOCOL_VERSION] = conn.protocolVersion;
  if ((parts & CONN_SESSION) !== 0) {
    const sessionId = sessionIdOf(conn);
    if (sessionId !== undefined) into[ATTR_MCP_SESSION_ID] = sessionId;
  }
  if ((parts & CONN_NETWORK) !== 0) {
    if (conn.networkTransport !== undefined) into[ATTR_NETWORK_TRANSPORT] = conn.networkTransport;
    if (conn.networkProtocolName !== undefined) into[ATTR_NETWORK_PROTOCOL_NAME] = conn.networkProtocolName;
    const version = httpVersion ?? conn.networkProtocolVersion;
    if (version !== undefined) into[ATTR_NETWORK_PROTOCOL_VERSION] = version;
  }
  if ((parts & CONN_PEER) !== 0 && conn.peerName !== undefined) {
    if (conn.role === 'server') {
      into[ATTR_MCP_CLIENT_NAME] = conn.peerName;
      if (conn.peerVersion !== undefined) into[ATTR_MCP_CLIENT_VERSION] = conn.peerVersion;
    } else if (conn.role === 'client') {
      into[ATTR_MCP_SERVER_NAME] = conn.peerName;
      if (conn.peerVersion !== undefined) into[ATTR_MCP_SERVER_VERSION] = conn.peerVersion;
    }
  }
  if ((parts & CONN_SERVER) !== 0 && conn.serverAddress !== undefined) {
    into[ATTR_SERVER_ADDRESS] = conn.serverAddress;
    if (conn.serverPort !== undefined) into[ATTR_SERVER_PORT] = conn.serverPort;
  }
}
