// An ordinary MCP server over stdio, with no OpenTelemetry code at all: the demo starts it with
// `node --import opentelemetry-instrumentation-mcp/register server.mjs`, and that is all it takes.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'weather-server', version: '1.0.0' });

const forecasts = { paris: 'sunny, 21°C', oslo: 'snow, -3°C', lima: 'cloudy, 18°C' };

server.tool('forecast', 'Weather forecast for a city', { city: z.string() }, async ({ city }) => {
  const forecast = forecasts[city.toLowerCase()];
  if (forecast === undefined) {
    return { isError: true, content: [{ type: 'text', text: `no forecast for ${city}` }] };
  }
  await new Promise((resolve) => setTimeout(resolve, 15)); // the "backend"
  return { content: [{ type: 'text', text: `${city}: ${forecast}` }] };
});

server.tool('alerts', 'Weather alerts (always fails: the upstream is down)', {}, async () => {
  throw new Error('upstream alert service unavailable');
});

server.prompt('packing-list', { city: z.string() }, ({ city }) => ({
  messages: [{ role: 'user', content: { type: 'text', text: `What should I pack for ${city}?` } }],
}));

server.resource('stations', 'weather://stations', async (uri) => ({
  contents: [{ uri: uri.href, text: Object.keys(forecasts).join('\n') }],
}));

await server.connect(new StdioServerTransport());
