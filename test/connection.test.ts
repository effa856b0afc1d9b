/* What is learnt of a connection, unit by unit: transports, peers' addresses, initialize, the v2 stateless version, advertised names; and the one attribute builder. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addConnectionAttributes,
  CONN_NETWORK,
  CONN_PEER,
  CONN_SERVER,
  CONN_SESSION,
  CONN_VERSION,
  LOG_CONNECTION,
  METRIC_CONNECTION,
  SPAN_CONNECTION,
} from '../src/attributes';
import {
  connectionOf,
  existingConnectionOf,
  httpPeerOf,
  isKnownTarget,
  learnAdvertised,
  learnFromInitialize,
  learnFromProtocol,
  learnStatelessProtocolVersion,
  networkOfTransport,
  registerMcpServer,
  serverOfUrl,
} from '../src/connection';

class StreamableHTTPClientTransport {
  sessionId: string | undefined = 'session-1';
  _url = new URL('http://[::1]:8123/mcp');
}
class StdioServerTransport {}

function serverProtocol(transport: object): { _transport: object; _oninitialize(): void } {
  return { _transport: transport, _oninitialize() {} };
}

describe('peer addresses and transports', () => {
  test('a Node request: address, port, and the HTTP version as the conventions spell it', () => {
    const fresh = { served: false, watched: false, listen: undefined };
    assert.deepEqual(httpPeerOf({ httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1', remotePort: 5000 } }), { address: '127.0.0.1', port: 5000, protocolVersion: '1.1', ...fresh });
    assert.deepEqual(httpPeerOf({ httpVersion: '2.0', socket: { remoteAddress: '::1' } }), { address: '::1', port: undefined, protocolVersion: '2', ...fresh });
    assert.deepEqual(httpPeerOf({ httpVersion: '1.0', socket: null }), { address: undefined, port: undefined, protocolVersion: '1.0', ...fresh });
    assert.equal(httpPeerOf({ httpVersion: '3', socket: {} }), undefined, 'nothing known: no peer');
    assert.equal(httpPeerOf({ socket: { remoteAddress: 42 } }), undefined);
    assert.equal(httpPeerOf(null), undefined);
    assert.equal(httpPeerOf('GET /'), undefined);
  });

  test('a client URL: IPv6 brackets removed, default ports filled in', () => {
    assert.deepEqual(serverOfUrl(new URL('http://[::1]:8123/mcp')), { address: '::1', port: 8123 });
    assert.deepEqual(serverOfUrl(new URL('https://mcp.example/mcp')), { address: 'mcp.example', port: 443 });
    assert.deepEqual(serverOfUrl(new URL('http://localhost/mcp')), { address: 'localhost', port: 80 });
    assert.deepEqual(serverOfUrl('http://not-a-url-object'), { address: undefined, port: undefined });
  });

  test('transports by class: stdio is a pipe, the HTTP ones tcp/http, anything else unknown', () => {
    assert.deepEqual(networkOfTransport('StdioClientTransport'), { transport: 'pipe', protocolName: undefined });
    assert.deepEqual(networkOfTransport('NodeStreamableHTTPServerTransport'), { transport: 'tcp', protocolName: 'http' });
    assert.deepEqual(networkOfTransport('SSEClientTransport'), { transport: 'tcp', protocolName: 'http' });
    assert.deepEqual(networkOfTransport('InMemoryTransport'), { transport: undefined, protocolName: undefined });
    assert.deepEqual(networkOfTransport(undefined), { transport: undefined, protocolName: undefined });
  });
});

describe('learning about a connection', () => {
  test('one state per protocol and transport: renewed on reconnect, never created by a look-up', () => {
    const first = new StdioServerTransport();
    const protocol = serverProtocol(first);
    assert.equal(existingConnectionOf(protocol), undefined);
    const conn = connectionOf(protocol);
    assert.equal(connectionOf(protocol), conn);
    assert.equal(conn.role, 'server');
    assert.equal(conn.networkTransport, 'pipe');
    protocol._transport = new StdioServerTransport();
    assert.notEqual(connectionOf(protocol), conn, 'a new transport: a new connection');
  });

  test('initialize: the version and the peer on either side, and a new revision', () => {
    const server = connectionOf(serverProtocol(new StdioServerTransport()));
    const before = server.revision;
    learnFromInitialize(server, { clientInfo: { name: 'c', version: '1' } }, { protocolVersion: '2025-06-18', serverInfo: { name: 's' } });
    assert.equal(server.protocolVersion, '2025-06-18');
    assert.equal(server.peerName, 'c');
    assert.equal(server.peerVersion, '1');
    assert.ok(server.revision > before);
    const client = connectionOf({ _transport: new StreamableHTTPClientTransport(), getServerVersion() {} } as never);
    learnFromInitialize(client, { clientInfo: { name: 'c' } }, { protocolVersion: '2025-06-18', serverInfo: { name: 's', version: 2 } });
    assert.equal(client.peerName, 's');
    assert.equal(client.peerVersion, undefined, 'a version that is not a string is not taken');
    const untouched = connectionOf(serverProtocol(new StdioServerTransport()));
    learnFromInitialize(untouched, {}, 'not an object');
    assert.equal(untouched.protocolVersion, undefined);
    assert.equal(untouched.revision, 0);
  });

  test('from the SDK object: the negotiated version and the peer it remembers', () => {
    const protocol = { ...serverProtocol(new StdioServerTransport()), _negotiatedProtocolVersion: '2026-07-28', _clientVersion: { name: 'v2-client', version: '2.0.0' } };
    const conn = connectionOf(protocol);
    learnFromProtocol(conn, protocol);
    assert.equal(conn.protocolVersion, '2026-07-28');
    assert.equal(conn.peerName, 'v2-client');
    assert.equal(conn.revision, 1);
  });

  test('a v2 stateless request: the MCP-Protocol-Version header, only when the server supports it', () => {
    const headers = (version: string) => ({ request: { headers: { get: (name: string) => (name === 'mcp-protocol-version' ? version : null) } } });
    const protocol = { ...serverProtocol(new StdioServerTransport()), _supportedProtocolVersions: ['2026-07-28'] };
    learnStatelessProtocolVersion(protocol, { method: 'tools/call' }, headers('1999-01-01'));
    assert.equal(connectionOf(protocol).protocolVersion, undefined, 'a version the server does not support is the peer\'s choice');
    learnStatelessProtocolVersion(protocol, { method: 'tools/call' }, headers('2026-07-28'));
    assert.equal(connectionOf(protocol).protocolVersion, '2026-07-28');
  });

  test('known targets: registered on an McpServer, advertised in a list, or allowed by name', () => {
    const server = {};
    const none = new Set<string>();
    assert.equal(isKnownTarget(server, 'tools/call', 'echo', none), false);
    assert.equal(isKnownTarget(server, 'tools/call', 'echo', new Set(['echo'])), true);
    learnAdvertised(server, 'tools/list', { tools: [{ name: 'echo' }, { name: 7 }, null] });
    learnAdvertised(server, 'prompts/list', { prompts: [{ name: 'greet' }] });
    learnAdvertised(server, 'tools/list', 'garbage');
    assert.equal(isKnownTarget(server, 'tools/call', 'echo', none), true);
    assert.equal(isKnownTarget(server, 'prompts/get', 'echo', none), false);
    assert.equal(isKnownTarget(server, 'prompts/get', 'greet', none), true);
    const registered = {};
    registerMcpServer(registered, { _registeredTools: { add: {} }, _registeredPrompts: new Map([['p', {}]]) });
    assert.equal(isKnownTarget(registered, 'tools/call', 'add', none), true);
    assert.equal(isKnownTarget(registered, 'tools/call', 'toString', none), false, 'own properties only');
    assert.equal(isKnownTarget(registered, 'prompts/get', 'p', none), true);
  });
});

describe('the one attribute builder', () => {
  const conn = connectionOf({ _transport: new StreamableHTTPClientTransport(), getServerVersion() {} } as never);
  learnFromInitialize(conn, {}, { protocolVersion: '2025-06-18', serverInfo: { name: 'srv', version: '3' } });

  test('each part adds its keys, and only those', () => {
    const build = (parts: number, http?: string) => {
      const out = {};
      addConnectionAttributes(out, conn, parts, http);
      return out;
    };
    assert.deepEqual(build(CONN_VERSION), { 'mcp.protocol.version': '2025-06-18' });
    assert.deepEqual(build(CONN_SESSION), { 'mcp.session.id': 'session-1' });
    assert.deepEqual(build(CONN_NETWORK), { 'network.transport': 'tcp', 'network.protocol.name': 'http' });
    assert.deepEqual(build(CONN_NETWORK, '1.1'), { 'network.transport': 'tcp', 'network.protocol.name': 'http', 'network.protocol.version': '1.1' });
    assert.deepEqual(build(CONN_PEER), { 'mcp.server.name': 'srv', 'mcp.server.version': '3' });
    assert.deepEqual(build(CONN_SERVER), { 'server.address': '::1', 'server.port': 8123 });
  });

  test('spans, metrics and logs take what each may carry: no session id or peer name on metrics', () => {
    const spans = {};
    const metrics = {};
    const logs = {};
    addConnectionAttributes(spans, conn, SPAN_CONNECTION);
    addConnectionAttributes(metrics, conn, METRIC_CONNECTION);
    addConnectionAttributes(logs, conn, LOG_CONNECTION);
    assert.ok('mcp.session.id' in spans && 'mcp.server.name' in spans);
    assert.ok(!('mcp.session.id' in metrics) && !('mcp.server.name' in metrics));
    assert.deepEqual(Object.keys(logs).sort(), ['mcp.protocol.version', 'mcp.server.name', 'mcp.server.version', 'mcp.session.id']);
  });
});
