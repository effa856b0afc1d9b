'use strict';
// An MCP server over Streamable HTTP whose tool calls an HTTP API. Run it under tracing.cjs and the
// tool's API call is a child span of the tool's `tools/call forecast` span, and the API receives
// the trace context in its `traceparent` header:
//
//   node --require ./examples/http-tool-api/tracing.cjs examples/http-tool-api/server.cjs
//
// MCP_PORT (default 3000; 0 picks a free one) is the MCP endpoint http://127.0.0.1:$MCP_PORT/mcp.
// WEATHER_API_URL is the API; without it, the bundled stand-in (api.cjs) is started in this process.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = require('zod');
const { startWeatherApi } = require('./api.cjs');

/** GET `url`, JSON in; an error for any status but 200. Uses `http`, which the HTTP instrumentation traces. */
function getJson(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`the weather API answered ${res.statusCode}: ${body}`));
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
      })
      .on('error', reject);
  });
}

function createMcpServer(apiUrl) {
  const server = new McpServer({ name: 'weather-api-server', version: '1.0.0' });
  server.tool('forecast', 'Weather forecast for a city, from the weather API', { city: z.string() }, async ({ city }) => {
    // A throw becomes a tool error (`isError: true`) for the caller; the span records `tool_error`.
    const data = await getJson(`${apiUrl}/forecast?city=${encodeURIComponent(city)}`);
    return { content: [{ type: 'text', text: `${data.city}: ${data.summary}` }] };
  });
  return server;
}

async function main() {
  const apiUrl = process.env.WEATHER_API_URL || (await startWeatherApi()).url;
  /** Streamable HTTP sessions by `Mcp-Session-Id`. */
  const sessions = new Map();
  const httpServer = http.createServer(async (req, res) => {
    try {
      if (new URL(req.url, 'http://mcp.invalid').pathname !== '/mcp') {
        res.writeHead(404).end();
        return;
      }
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (transport === undefined) {
        if (req.method !== 'POST' || sessionId !== undefined) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no valid session' }, id: null }));
          return;
        }
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => sessions.set(id, created),
        });
        created.onclose = () => {
          if (created.sessionId !== undefined) sessions.delete(created.sessionId);
        };
        await createMcpServer(apiUrl).connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    } catch (error) {
      console.error('MCP request failed:', error);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  const port = Number(process.env.MCP_PORT ?? 3000);
  httpServer.listen(port, '127.0.0.1', () => {
    console.error(`MCP endpoint http://127.0.0.1:${httpServer.address().port}/mcp (weather API ${apiUrl})`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
