'use strict';
/*
 * Traffic for the example: one MCP session with calls of every outcome.
 *
 *   node examples/prometheus/client.cjs [http://127.0.0.1:3000/mcp]
 */
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

async function main() {
  const url = new URL(process.argv[2] ?? 'http://127.0.0.1:3000/mcp');
  const client = new Client({ name: 'prometheus-example-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);

  for (let i = 0; i < 5; i++) await client.callTool({ name: 'add', arguments: { a: i, b: 1 } }); // ok
  for (let i = 0; i < 3; i++) await client.callTool({ name: 'divide', arguments: { a: i, b: 0 } }); // tool_error
  await client.callTool({ name: 'divide', arguments: { a: 1, b: 4 } }); // ok
  for (let i = 0; i < 2; i++) await client.callTool({ name: 'exchange-rate', arguments: {} }); // tool_error (thrown)
  // The client gives up after 200 ms and cancels: cancelled.
  await client.callTool({ name: 'wait', arguments: { seconds: 60 } }, undefined, { timeout: 200 }).catch(() => {});
  for (let i = 0; i < 2; i++) await client.getPrompt({ name: 'no-such-prompt' }).catch(() => {}); // -32602
  await client.getPrompt({ name: 'explain', arguments: { expression: '6 * 7' } }); // ok

  await transport.terminateSession(); // ends the session on the server: mcp.server.session.duration
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
