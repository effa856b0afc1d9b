'use strict';
// A stdio MCP server (CommonJS) without OpenTelemetry code of its own; tracing.cjs, preloaded, does it.
// stdout is the JSON-RPC channel: diagnostics go to stderr.
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { z } = require('zod');

const stock = new Map([
  ['widget', 12],
  ['gadget', 0],
]);

const server = new McpServer({ name: 'inventory-server', version: '1.0.0' });

server.tool('check-stock', 'How many of an item are in stock', { item: z.string() }, async ({ item }) => {
  if (!stock.has(item)) return { isError: true, content: [{ type: 'text', text: `unknown item ${item}` }] };
  return { content: [{ type: 'text', text: `${item}: ${stock.get(item)} in stock` }] };
});

server.tool('reserve', 'Reserves items', { item: z.string(), quantity: z.number().int().positive() }, async ({ item, quantity }) => {
  const available = stock.get(item) ?? 0;
  if (available < quantity) throw new Error(`only ${available} ${item}(s) left`); // the SDK makes it a tool error
  stock.set(item, available - quantity);
  return { content: [{ type: 'text', text: `reserved ${quantity} ${item}(s)` }] };
});

server.resource('catalog', 'inventory://catalog', async (uri) => ({
  contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(Object.fromEntries(stock)) }],
}));

server.connect(new StdioServerTransport()).catch((error) => {
  console.error('could not start the server', error);
  process.exitCode = 1;
});
