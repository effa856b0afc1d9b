/*
 * Where the JSON-line log goes: standard error (the default) or a file. Standard output is refused,
 * under every name a user might give it: a stdio MCP server speaks JSON-RPC there, and one log line
 * in the middle of that stream breaks the connection.
 */
import { fstatSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** A destination of the log: `'stderr'`, a file path, a file descriptor, or a stream with an `fd`. */
export type JsonLogDestination = string | number | { readonly fd?: unknown };

/** Thrown by `new JsonLogSpanProcessor(...)` when the destination is standard output. */
export class StdoutDestinationError extends Error {
  /** Stable, for `catch` blocks: `ERR_MCP_LOG_STDOUT`. */
  readonly code = 'ERR_MCP_LOG_STDOUT';

  constructor(destination: string) {
    super(
      `opentelemetry-instrumentation-mcp: the JSON-line log cannot be written to standard output (${destination}): ` +
        'a stdio MCP server speaks JSON-RPC there. Use "stderr" (the default) or a file path.',
    );
    this.name = 'StdoutDestinationError';
  }
}

/** What a destination resolved to. */
export type ResolvedDestination = { kind: 'stderr' } | { kind: 'file'; path: string };

const STDOUT_PATHS = new Set(['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1', '/proc/thread-self/fd/1']);

/** Whether `path` names the same open file as standard output (a pipe, socket or file; not a terminal). */
function isStdoutAlias(path: string): boolean {
  if (STDOUT_PATHS.has(path) || path === `/proc/${process.pid}/fd/1`) return true;
  let out;
  try {
    out = fstatSync(1);
  } catch {
    return false; // no standard output at all
  }
  // Another name of the terminal is harmless: nobody parses a terminal. A pipe, socket or redirected
  // file is what a host reads JSON-RPC from.
  if (out.isCharacterDevice()) return false;
  try {
    const target = statSync(path);
    return target.dev === out.dev && target.ino === out.ino;
  } catch {
    return false; // does not exist yet: a new file is not standard output
  }
}

/**
 * Resolves a user's `destination`; throws {@link StdoutDestinationError} for standard output and a
 * `TypeError` for anything that is neither standard error nor a file path.
 */
export function resolveDestination(destination: JsonLogDestination | undefined): ResolvedDestination {
  // The keywords are case-insensitive: `STDOUT` must not quietly become a file of that name.
  const keyword = typeof destination === 'string' ? destination.trim().toLowerCase() : undefined;
  if (destination === undefined || keyword === 'stderr') return { kind: 'stderr' };
  if (keyword === 'stdout') throw new StdoutDestinationError(`'${String(destination)}'`);
  if (typeof destination === 'number') {
    if (destination === 1) throw new StdoutDestinationError('file descriptor 1');
    if (destination === 2) return { kind: 'stderr' };
    throw new TypeError(`opentelemetry-instrumentation-mcp: unsupported log destination: file descriptor ${destination} (use "stderr" or a file path)`);
  }
  if (typeof destination === 'object' && destination !== null) {
    if (destination === process.stdout || destination.fd === 1) throw new StdoutDestinationError('process.stdout');
    if (destination === process.stderr || destination.fd === 2) return { kind: 'stderr' };
    throw new TypeError('opentelemetry-instrumentation-mcp: unsupported log destination: a stream other than process.stderr (use "stderr" or a file path)');
  }
  if (typeof destination !== 'string' || destination === '') {
    throw new TypeError(`opentelemetry-instrumentation-mcp: unsupported log destination: ${String(destination)}`);
  }
  const path = resolve(destination);
  if (isStdoutAlias(path)) throw new StdoutDestinationError(destination);
  return { kind: 'file', path };
}
