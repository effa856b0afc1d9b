// A stand-in for an MCP host (an IDE, a desktop assistant): it has no OpenTelemetry code either. It
// starts the server the way a host would, with the preload on its command line, makes a few calls and
// prints what it got. Everything the server did reaches the OTLP endpoint the environment names.
//
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 node examples/zero-code-stdio/client.mjs
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('./server.mjs', import.meta.url));
const client = new Client({ name: 'notes-host', version: '1.0.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'opentelemetry-instrumentation-mcp/register', server],
    // The host passes its environment on: OTEL_* choose where the server's telemetry goes.
    env: { ...process.env, OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'notes-server' },
    stderr: 'inherit',
  }),
);

const text = (result) => result.content.map((c) => c.text).join(' | ');
const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(', ')}`);
console.log(text(await client.callTool({ name: 'add-note', arguments: { title: 'otel', text: 'Traces, metrics and logs' } })));
console.log(text(await client.callTool({ name: 'search-notes', arguments: { word: 'metrics' } })));
console.log(text(await client.callTool({ name: 'search-notes', arguments: { word: 'kangaroo' } })));
const { contents } = await client.readResource({ uri: 'notes://all' });
console.log(`notes://all: ${contents[0].text.split('\n').length} lines`);
const { messages } = await client.getPrompt({ name: 'summarize-notes', arguments: { style: 'briefly' } });
console.log(`prompt: ${messages[0].content.text}`);
await client.close(); // the server sees its stdin end, exits, and its preload flushes on the way out
