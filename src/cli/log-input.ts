/*
 * Reading the JSON-line log of `JsonLogSpanProcessor` for the CLI commands: opening a file or
 * standard input, streaming it line by line, and telling each line apart (an MCP operation, a
 * malformed line, a foreign one), shared by `stats` and `report`.
 */
import { promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** One MCP operation of the log, with the fields the commands read (see src/json-log/line.ts). */
export interface LogOperation {
  side: 'server' | 'client';
  method: string;
  tool: string | undefined;
  prompt: string | undefined;
  /** Start of the operation, milliseconds since the epoch; NaN when the line has no valid `ts`. */
  startMs: number;
  latencyMs: number;
  /** Latency in whole microseconds (what the histograms record). */
  latencyMicros: number;
  ok: boolean;
  /** `error.type` of a failed operation (`_OTHER` when the line has none). */
  errorType: string | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  /** The peer's name (the client's, on the server side). */
  peerName: string | undefined;
  /** Server side: `meta` when the request carried trace context in `_meta`, `none` when it did not. */
  traceIn: 'meta' | 'none' | undefined;
}

/** A line that is not JSON, or JSON that is not an object. */
export const MALFORMED = 0;
/** A JSON object that is not an MCP operation (another logger's line). */
export const FOREIGN = 1;
/** An empty or blank line: not counted. */
export const BLANK = 2;

export type ParsedLine = LogOperation | typeof MALFORMED | typeof FOREIGN | typeof BLANK;

const MICROS_PER_MS = 1000;

/** What one line of the log is. */
export function parseLogLine(line: string): ParsedLine {
  if (line.trim() === '') return BLANK;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return MALFORMED;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return MALFORMED;
  const { ts, side, method, tool, prompt, latency_ms: latency, ok, error, trace_id: traceId, span_id: spanId, peer_name: peerName, trace_in: traceIn } =
    record as Record<string, unknown>;
  const micros = typeof latency === 'number' ? Math.round(latency * MICROS_PER_MS) : NaN;
  if (
    (side !== 'server' && side !== 'client') ||
    typeof method !== 'string' ||
    method === '' ||
    typeof ok !== 'boolean' ||
    !(micros >= 0 && micros <= Number.MAX_SAFE_INTEGER) ||
    (tool !== undefined && typeof tool !== 'string') ||
    (prompt !== undefined && typeof prompt !== 'string')
  ) {
    return FOREIGN;
  }
  let errorType: string | undefined;
  if (!ok) {
    const type = error !== null && typeof error === 'object' ? (error as Record<string, unknown>).type : undefined;
    errorType = typeof type === 'string' && type !== '' ? type : '_OTHER';
  }
  return {
    side,
    method,
    tool: tool as string | undefined,
    prompt: prompt as string | undefined,
    startMs: typeof ts === 'string' ? Date.parse(ts) : NaN,
    latencyMs: latency as number,
    latencyMicros: micros,
    ok,
    errorType,
    traceId: typeof traceId === 'string' ? traceId : undefined,
    spanId: typeof spanId === 'string' ? spanId : undefined,
    peerName: typeof peerName === 'string' ? peerName : undefined,
    traceIn: traceIn === 'meta' || traceIn === 'none' ? traceIn : undefined,
  };
}

/** Feeds every line of `input` to `onLine`; rejects with the stream's error. */
export function readLines(input: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, crlfDelay: Infinity });
    let failed = false;
    input.once('error', (error) => {
      failed = true;
      rl.close();
      reject(error);
    });
    rl.on('line', onLine);
    rl.once('close', () => {
      if (!failed) resolve();
    });
  });
}

/** A stream of `file`'s bytes, or the reason it cannot be read (a directory, a missing file…). */
export async function openLogFile(file: string): Promise<Readable | string> {
  try {
    const handle = await fsp.open(file, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      return 'it is a directory';
    }
    return handle.createReadStream({ highWaterMark: 1024 * 1024 });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Counts the lines of a log by kind and hands each MCP operation to `addOperation`: what `stats` and `report` share. */
export abstract class LogLineCounter {
  lines = 0;
  malformed = 0;
  foreign = 0;

  add(line: string): void {
    const parsed = parseLogLine(line);
    if (parsed === BLANK) return;
    this.lines++;
    if (parsed === MALFORMED) this.malformed++;
    else if (parsed === FOREIGN) this.foreign++;
    else this.addOperation(parsed);
  }

  protected abstract addOperation(op: LogOperation): void;
}
