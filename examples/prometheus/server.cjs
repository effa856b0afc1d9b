'use strict';
/*
 * An MCP server over Streamable HTTP whose metrics Prometheus scrapes.
 *
 *   node examples/prometheus/server.cjs
 *
 * MCP endpoint:     http://127.0.0.1:$MCP_PORT/mcp          (default port 3000)
 * Metrics endpoint: http://127.0.0.1:$METRICS_PORT/metrics  (default port 9464)
 *
 * Both listen on loopback only. The one line on stdout says where they listen once both are up.
 *
 * Order matters: the meter provider and McpInstrumentation are set up before the MCP SDK is
 * required, so that the SDK is patched as it loads (this is CommonJS for that reason).
 */
const { randomUUID } = require('node:crypto');
const http = require('node:http');

// --- OpenTelemetry: a MeterProvider whose reader is the Prometheus exporter ----------------------
const { MeterProvider } = require('@opentelemetry/sdk-metrics');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { McpInstrumentation } = require('opentelemetry-instrumentation-mcp');

const HOST = '127.0.0.1';
const MCP_PORT = portFromEnv('MCP_PORT', 3000);
const METRICS_PORT = portFromEnv('METRICS_PORT', 9464);

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name} must be a port number (1-65535), got ${JSON.stringify(raw)}`);
  return port;
}

function fail(message) {
  process.stderr.write(`prometheus example: ${message}\n`);
  process.exit(1);
}

let metricsListening;
const metricsReady = new Promise((resolve) => (metricsListening = resolve));
// Serves GET /metrics on its own HTTP server. Its callback gets the listen error, if any.
const exporter = new PrometheusExporter({ host: HOST, port: METRICS_PORT, endpoint: '/metrics' }, (error) => {
  if (error) fail(`metrics endpoint: cannot listen on ${HOST}:${METRICS_PORT}: ${error.message}`);
  metricsListening();
});
const meterProvider = new MeterProvider({ readers: [exporter] });

// No tracer provider: this example is about metrics (the histograms do not depend on tracing).
const instrumentation = new McpInstrumentation();
instrumentation.setMeterProvider(meterProvider);

// --- The MCP server: tools with different outcomes ----------------------------------------------
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = require('zod');

const text = (value) => ({ content: [{ type: 'text', text: value }] });

function createMcpServer() {
  const server = new McpServer({ name: 'calculator', version: '1.0.0' });

  // Always succeeds: error.type absent.
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => text(String(a + b)),
  );

  // Succeeds, or returns a result with isError: true (error.type = tool_error).
  server.registerTool(
    'divide',
    { description: 'Divides a by b', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => (b === 0 ? { isError: true, content: [{ type: 'text', text: 'division by zero' }] } : text(String(a / b))),
  );

  // Throws. McpServer turns the exception into an isError result, so this is a tool_error too.
  server.registerTool('exchange-rate', { description: 'Fetches an exchange rate (the upstream is down)' }, async () => {
    throw new Error('upstream rate service unavailable');
  });

  // Waits; when the client gives up and cancels, error.type = cancelled.
  server.registerTool(
    'wait',
    { description: 'Waits for the given number of seconds, or until cancelled', inputSchema: { seconds: z.number() } },
    async ({ seconds }, extra) => {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`waited ${seconds}s`);
    },
  );

  // prompts/get of this prompt succeeds; of an unknown one fails with JSON-RPC -32602.
  server.registerPrompt('explain', { description: 'Explains a calculation', argsSchema: { expression: z.string() } }, ({ expression }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Explain step by step: ${expression}` } }],
  }));

  return server;
}

// --- Streamable HTTP, stateful: one McpServer and transport per session -------------------------
const sessions = new Map();
const LOOPBACK_HOSTS = new Set([`127.0.0.1:${MCP_PORT}`, `localhost:${MCP_PORT}`]);

function jsonRpcError(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function handle(req, res) {
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  // DNS-rebinding guard: only loopback Host headers.
  if (!LOOPBACK_HOSTS.has(req.headers.host ?? '')) {
    jsonRpcError(res, 403, 'Forbidden host');
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
  if (transport === undefined) {
    if (sessionId !== undefined) {
      jsonRpcError(res, 404, 'Session not found');
      return;
    }
    if (req.method !== 'POST') {
      jsonRpcError(res, 400, 'No session: send an initialize request first');
      return;
    }
    // A new session; the transport rejects anything but an initialize request.
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, created),
    });
    created.onclose = () => {
      if (created.sessionId !== undefined) sessions.delete(created.sessionId);
    };
    await createMcpServer().connect(created);
    transport = created;
  }
  await transport.handleRequest(req, res);
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    process.stderr.write(`prometheus example: ${error?.stack ?? error}\n`);
    if (!res.headersSent) jsonRpcError(res, 500, 'Internal server error');
    else res.end();
  });
});
httpServer.on('error', (error) => fail(`MCP endpoint: cannot listen on ${HOST}:${MCP_PORT}: ${error.message}`));

const mcpReady = new Promise((resolve) => httpServer.listen(MCP_PORT, HOST, resolve));
Promise.all([mcpReady, metricsReady]).then(() => {
  process.stdout.write(`MCP endpoint http://${HOST}:${MCP_PORT}/mcp, Prometheus metrics http://${HOST}:${METRICS_PORT}/metrics\n`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  for (const transport of sessions.values()) await transport.close().catch(() => {});
  httpServer.closeAllConnections();
  await new Promise((resolve) => httpServer.close(() => resolve()));
  await meterProvider.shutdown().catch(() => {}); // also stops the metrics endpoint
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
