/*
 * Loopback servers for tests: listen on a free port, read a request body, close a server with its open
 * connections, pick a free port for a child to listen on. `node:http` is only typed here, never loaded:
 * tests that trace HTTP load it after creating their instrumentation.
 */
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { createServer } from 'node:net';

/** Listens on an ephemeral port of 127.0.0.1; resolves the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** The MCP endpoint (`/mcp`) of a loopback server on `port`. */
export function mcpUrl(port: number): URL {
  return new URL(`http://127.0.0.1:${port}/mcp`);
}

/** Closes `server` now: its open (keep-alive) connections too. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The whole body of a request, as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/**
 * Runs `work` with an HTTP server of `listener` listening on loopback, and closes the server after,
 * whatever `work` did. `node:http` is required at the call, so that an HTTP instrumentation created
 * earlier sees it.
 */
export async function withHttpServer<T>(listener: RequestListener, work: (port: number, server: Server) => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require('node:http') as typeof import('node:http');
  const server = http.createServer(listener);
  const port = await listen(server);
  try {
    return await work(port, server);
  } finally {
    await closeServer(server);
  }
}

/** A port nothing listens on right now (for a child process told to listen there: it may be taken meanwhile). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
