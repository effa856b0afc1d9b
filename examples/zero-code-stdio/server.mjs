// An ordinary MCP server over stdio, with no OpenTelemetry code at all. Start it with the preload and
// it is traced and measured:
//
//   node --import opentelemetry-instrumentation-mcp/register examples/zero-code-stdio/server.mjs
//
// Its stdout carries only JSON-RPC; the preload writes its diagnostics, and the JSON-line log of MCP
// operations (OTEL_INSTRUMENTATION_MCP_LOG, stderr by default), to stderr.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes = new Map([['welcome', 'Notes live in memory; add some with add-note.']]);

const server = new McpServer({ name: 'notes-server', version: '1.0.0' }, { capabilities: { logging: {} } });

server.tool('add-note', 'Stores a note under a title', { title: z.string(), text: z.string() }, async ({ title, text }) => {
  notes.set(title, text);
  return { content: [{ type: 'text', text: `saved "${title}" (${notes.size} notes)` }] };
});

server.tool('search-notes', 'Finds notes whose text contains a word', { word: z.string() }, async ({ word }) => {
  const hits = [...notes].filter(([, text]) => text.toLowerCase().includes(word.toLowerCase())).map(([title]) => title);
  if (hits.length === 0) return { isError: true, content: [{ type: 'text', text: `no note mentions "${word}"` }] };
  return { content: [{ type: 'text', text: hits.join('\n') }] };
});

server.resource('all-notes', 'notes://all', async (uri) => ({
  contents: [{ uri: uri.href, text: [...notes].map(([title, text]) => `# ${title}\n${text}`).join('\n\n') }],
}));

server.prompt('summarize-notes', { style: z.string() }, ({ style }) => ({
  messages: [{ role: 'user', content: { type: 'text', text: `Summarize my ${notes.size} notes, ${style}.` } }],
}));

await server.connect(new StdioServerTransport());
