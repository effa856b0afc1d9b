/* Operation-log forwarding decides by the level the client asked for: the request's own `_meta` `logLevel` (2026-07-28), else the session's `logging/setLevel`. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionOf } from '../../src/connection';
import { forwardOperationLog } from '../../src/mcp-logging/forward';
import { noteSubscribedLevel } from '../../src/mcp-logging/levels';

class StdioServerTransport {}

function fakeServer(): { sent: any[]; protocol: any } {
  const sent: any[] = [];
  const protocol = {
    _transport: new StdioServerTransport(),
    _oninitialize() {},
    _capabilities: { logging: {} },
    notification(message: unknown) {
      sent.push(message);
      return Promise.resolve();
    },
  };
  return { sent, protocol };
}

const ok = { method: 'tools/call', tool: 'echo', prompt: undefined, latencyMs: 1.23456, errorType: undefined };
const failed = { ...ok, errorType: 'tool_error' };

describe('forwardOperationLog', () => {
  test('the request\'s own level decides: info lets a success through, error only failures', () => {
    const { sent, protocol } = fakeServer();
    const conn = connectionOf(protocol);
    forwardOperationLog(protocol, conn, ok, 'info');
    forwardOperationLog(protocol, conn, ok, 'error');
    forwardOperationLog(protocol, conn, failed, 'error');
    assert.deepEqual(sent, [
      { method: 'notifications/message', params: { level: 'info', logger: 'mcp.operations', data: { method: 'tools/call', tool: 'echo', latency_ms: 1.235, ok: true } } },
      { method: 'notifications/message', params: { level: 'error', logger: 'mcp.operations', data: { method: 'tools/call', tool: 'echo', latency_ms: 1.235, ok: false, error_type: 'tool_error' } } },
    ]);
  });

  test('without a level of its own the session\'s logging/setLevel applies; without either, nothing is sent', () => {
    const { sent, protocol } = fakeServer();
    const conn = connectionOf(protocol);
    forwardOperationLog(protocol, conn, ok, undefined);
    assert.equal(sent.length, 0, 'nobody asked');
    noteSubscribedLevel(conn, { level: 'warning' });
    forwardOperationLog(protocol, conn, ok, undefined);
    forwardOperationLog(protocol, conn, failed, 'not-a-level');
    assert.deepEqual(sent.map((m) => m.params.level), ['error']);
    forwardOperationLog(protocol, conn, ok, 'debug');
    assert.deepEqual(sent.map((m) => m.params.level), ['error', 'info'], 'the request\'s level wins over the session\'s');
  });

  test('never from a server without the logging capability', () => {
    const { sent, protocol } = fakeServer();
    delete (protocol as { _capabilities?: unknown })._capabilities;
    forwardOperationLog(protocol, connectionOf(protocol), failed, 'debug');
    assert.equal(sent.length, 0);
  });
});
