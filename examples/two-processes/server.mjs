// The server process: an ordinary MCP server over stdio (ESM), no OpenTelemetry code. The client
// starts it with `node --import opentelemetry-instrumentation-mcp/register server.mjs`.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const forecasts = { paris: 'sunny, 21°C', oslo: 'snow, -3°C' };
const server = new McpServer({ name: 'trip-server', version: '1.0.0' });

server.tool('forecast', 'Weather forecast for a city', { city: z.string() }, async ({ city }) => {
  const forecast = forecasts[city.toLowerCase()];
  if (forecast === undefined) return { isError: true, content: [{ type: 'text', text: `no forecast for ${city}` }] };
  return { content: [{ type: 'text', text: `${city}: ${forecast}` }] };
});

server.tool('book-hotel', 'Books a hotel room', { city: z.string(), nights: z.number().int().positive() }, async ({ city, nights }) => ({
  content: [{ type: 'text', text: `booked ${nights} night(s) in ${city}` }],
}));

await server.connect(new StdioServerTransport());
