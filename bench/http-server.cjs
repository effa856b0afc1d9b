'use strict';
/*
 * The benchmark's Streamable HTTP server process, on 127.0.0.1: stateful (1.x McpServer +
 * StreamableHTTPServerTransport per session, sessions closed by DELETE) or stateless (v2
 * createMcpHandler behind toNodeHandler, a server per request). Set up with the configuration of
 * BENCH_SPEC before the SDK loads; answers its parent over IPC with its own process.cpuUsage() (all
 * threads), heap after GC, open sessions and what the configuration produced. Never writes to stdout.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { CONFIGS } = require('./configs.cjs');
const { BIG_TEXT, registerTools, stats } = require('./workload.cjs');

const spec = JSON.parse(process.env.BENCH_SPEC);
const hooks = CONFIGS[spec.config].setup({ workDir: spec.workDir, sinkUrl: spec.sinkUrl, role: 'server', http: spec.mode });

let openSessions = 0;
let sessionsOpened = 0;

function badRequest(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

/** 1.x, one McpServer and StreamableHTTPServerTransport per session (the SDK's documented pattern). */
function statefulHandler() {
  const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
  const sessions = new Map();
  return async (req, res) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (transport === undefined) {
      if (sessionId !== undefined) return badRequest(res, 404, 'Session not found');
      if (req.method !== 'POST' || !isInitializeRequest(body)) return badRequest(res, 400, 'Bad Request: no valid session');
      let server = new McpServer({ name: 'bench-server', version: '1.0.0' });
      server = hooks.onServer(server) || server;
      registerTools(server);
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          sessions.set(id, created);
          openSessions++;
          sessionsOpened++;
        },
      });
      server.server.onclose = () => {
        if (typeof created.sessionId === 'string' && sessions.delete(created.sessionId)) openSessions--;
      };
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  };
}

/** v2, stateless: createMcpHandler makes a server per request; toNodeHandler adapts it to node:http. */
function statelessHandler() {
  const { McpServer, createMcpHandler } = require('@modelcontextprotocol/server');
  const { toNodeHandler } = require('@modelcontextprotocol/node');
  const noteMeta = (ctx) => {
    stats.calls++;
    const meta = ctx && ctx.mcpReq && ctx.mcpReq._meta;
    if (meta && typeof meta.traceparent === 'string') stats.withTraceparent++;
  };
  const handler = createMcpHandler(() => {
    let server = new McpServer({ name: 'bench-server', version: '1.0.0' });
    server = hooks.onServer(server) || server;
    server.registerTool('noop', { description: 'returns a few bytes' }, async (ctx) => {
      noteMeta(ctx);
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    server.registerTool('big', { description: 'returns 10 kB of text' }, async (ctx) => {
      noteMeta(ctx);
      return { content: [{ type: 'text', text: BIG_TEXT }] };
    });
    return server;
  });
  const nodeHandler = toNodeHandler(handler);
  return Object.assign((req, res) => nodeHandler(req, res), { close: () => handler.close() });
}

const handle = spec.mode === 'stateless' ? statelessHandler() : statefulHandler();
const server = http.createServer((req, res) => {
  Promise.resolve(handle(req, res)).catch((error) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(error));
  });
});
server.keepAliveTimeout = 30_000;

function heapAfterGc() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function describe() {
  try {
    return await hooks.describe();
  } catch (error) {
    return { error: String(error) };
  }
}

process.on('message', async (m) => {
  if (typeof m.id !== 'number') return;
  const reply = (body) => process.send({ id: m.id, ...body });
  if (m.type === 'cpu') {
    const u = process.cpuUsage();
    reply({ cpuUs: u.user + u.system, openSessions, sessionsOpened, toolCalls: stats.calls });
  } else if (m.type === 'heap') {
    // Spans waiting in the batch processor's queue are not per-session state: export them first.
    try {
      if (hooks.flush) await hooks.flush();
    } catch {}
    reply({ heapUsed: heapAfterGc(), openSessions, sessionsOpened });
  } else if (m.type === 'snapshot') {
    // For diagnosis (heap after GC, written where the parent says): what per-session state is retained.
    global.gc();
    reply({ file: require('node:v8').writeHeapSnapshot(m.file) });
  } else if (m.type === 'describe') {
    reply({ described: await describe(), stats: { ...stats }, peakRssKb: process.resourceUsage().maxRSS });
  } else if (m.type === 'exit') {
    server.closeAllConnections();
    server.close();
    try {
      if (handle.close) await handle.close();
    } catch {}
    try {
      await hooks.shutdown();
    } catch {}
    reply({});
    setTimeout(() => process.exit(0), 20);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
