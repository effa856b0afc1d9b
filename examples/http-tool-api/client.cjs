'use strict';
// Calls the server's tool over Streamable HTTP: a known city, then one the API does not know.
//
//   node examples/http-tool-api/client.cjs [http://127.0.0.1:3000/mcp]
//
// Start it with `--require opentelemetry-instrumentation-mcp/register` too, and the server's spans
// continue this client's trace.
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

async function main() {
  const url = new URL(process.argv[2] ?? 'http://127.0.0.1:3000/mcp');
  const client = new Client({ name: 'weather-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  for (const city of ['Paris', 'Atlantis']) {
    const result = await client.callTool({ name: 'forecast', arguments: { city } });
    console.log(`${result.isError ? 'error: ' : ''}${result.content[0].text}`);
  }
  await transport.terminateSession();
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
