/*
 * Strings a peer chooses — tool and prompt names, resource URIs, method and logger names, its own name —
 * are capped before they reach spans and log records; a tool error's text on the span status has its
 * secrets redacted.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { MAX_PEER_STRING_LENGTH } from '../src/content';
import { mcpSdk } from './helpers/mcp';
import { setupOtel, waitFor } from './helpers/otel';

/* eslint-disable @typescript-eslint/no-explicit-any */
const otel = setupOtel();
const instrumentation = new McpInstrumentation();
const mcp = mcpSdk();
after(() => instrumentation.disable());

const HUGE = 100_000;
const huge = (prefix: string) => prefix + 'x'.repeat(HUGE);

function assertCapped(value: unknown, prefix: string, what: string): void {
  assert.equal(typeof value, 'string', what);
  const text = value as string;
  assert.equal(text.length, MAX_PEER_STRING_LENGTH, `${what}: ${text.length} characters`);
  assert.ok(text.startsWith(prefix), what);
  assert.ok(text.endsWith('…'), what);
}

async function lowLevelPair(clientName: string): Promise<{ client: any; clientTransport: any; close(): Promise<void> }> {
  const server = new mcp.McpServer({ name: 'hostile-target', version: '1.0.0' }, { capabilities: { tools: {}, resources: {}, logging: {} } }).server;
  mcp.setRequestHandler(server, 'tools/call', (request: any) =>
    request.params.name === 'leaky' ? { isError: true, content: [{ type: 'text', text: 'upstream said: Bearer sk2x9Q7mA1bC3dE5fG7hJ9kL' }] } : { content: [] },
  );
  mcp.setRequestHandler(server, 'resources/read', (request: any) => ({ contents: [{ uri: request.params.uri, text: '' }] }));
  const client = new mcp.Client({ name: clientName, version: huge('v') });
  const [clientTransport, serverTransport] = mcp.InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return { client, clientTransport, close: async () => { await client.close(); await server.close(); } };
}

describe('peer-chosen strings are capped', () => {
  test('a tool name, a resource URI, a client name and version, a method name of 100 kB each', async () => {
    const pair = await lowLevelPair(huge('client-'));
    otel.reset();
    try {
      await mcp.callTool(pair.client, { name: huge('tool-'), arguments: {} });
      await mcp.request(pair.client, 'resources/read', { uri: huge('file:///') });
      await pair.clientTransport.send({ jsonrpc: '2.0', method: huge('notifications/') });
      await waitFor(() => otel.spans().some((s) => s.kind === SpanKind.SERVER && s.name.startsWith('notifications/')), 5000, 'the notification span');
      const spans = otel.spans();
      const call = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['mcp.method.name'] === 'tools/call')!;
      assertCapped(call.attributes['gen_ai.tool.name'], 'tool-', 'gen_ai.tool.name');
      assert.equal(call.name, `tools/call ${call.attributes['gen_ai.tool.name'] as string}`);
      assertCapped(call.attributes['mcp.client.name'], 'client-', 'mcp.client.name');
      assertCapped(call.attributes['mcp.client.version'], 'v', 'mcp.client.version');
      const clientSide = spans.find((s) => s.kind === SpanKind.CLIENT && s.attributes['mcp.method.name'] === 'tools/call')!;
      assertCapped(clientSide.attributes['gen_ai.tool.name'], 'tool-', 'the client side too');
      const read = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['mcp.method.name'] === 'resources/read')!;
      assertCapped(read.attributes['mcp.resource.uri'], 'file:///', 'mcp.resource.uri');
      const notification = spans.find((s) => s.kind === SpanKind.SERVER && s.name.startsWith('notifications/'))!;
      assertCapped(notification.name, 'notifications/', 'the span name of a made-up method');
      assertCapped(notification.attributes['mcp.method.name'], 'notifications/', 'mcp.method.name');
    } finally {
      await pair.close();
    }
  });

  test('a tool error\'s text on the span status: capped at 256 characters, secrets redacted', async () => {
    instrumentation.setConfig({ captureContent: true });
    const pair = await lowLevelPair('leak-client');
    otel.reset();
    try {
      await mcp.callTool(pair.client, { name: 'leaky', arguments: {} });
      const server = otel.spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call leaky')!;
      assert.equal(server.status.message, 'upstream said: Bearer [REDACTED]');
    } finally {
      instrumentation.setConfig({});
      await pair.close();
    }
  });
});
