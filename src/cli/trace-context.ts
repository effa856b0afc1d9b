/*
 * Why traces don't join: per client, the share of requests a server received without trace context in
 * `_meta` (the JSON-line log's `trace_in`), the first thing to check when client and server traces stay
 * apart. Bounded: past a number of client names, the rest are counted together.
 */
import type { LogOperation } from './log-input';

/** One client's requests that said whether they carried trace context. */
export interface TraceContextRow {
  client: string;
  requests: number;
  without_trace_context: number;
  /** `without_trace_context / requests`. */
  share_without: number;
}

/** Client names kept apart; any further one is counted under `_OTHER`. */
const MAX_CLIENTS = 1000;
const OTHER = '_OTHER';
const UNNAMED = '(unnamed)';

export class TraceContextByClient {
  private readonly counts = new Map<string, { requests: number; without: number }>();

  add(op: LogOperation): void {
    if (op.side !== 'server' || op.traceIn === undefined) return;
    let client = op.peerName ?? UNNAMED;
    if (!this.counts.has(client) && this.counts.size >= MAX_CLIENTS) client = OTHER;
    let entry = this.counts.get(client);
    if (entry === undefined) this.counts.set(client, (entry = { requests: 0, without: 0 }));
    entry.requests++;
    if (op.traceIn === 'none') entry.without++;
  }

  /** Clients with the largest share without trace context first. */
  rows(): TraceContextRow[] {
    return [...this.counts]
      .map(([client, { requests, without }]) => ({ client, requests, without_trace_context: without, share_without: without / requests }))
      .sort((a, b) => b.share_without - a.share_without || b.requests - a.requests || (a.client < b.client ? -1 : 1));
  }
}

/** The table for people: one line per client. */
export function formatTraceContext(rows: TraceContextRow[]): string {
  if (rows.length === 0) return '';
  const header = ['client', 'requests', 'without trace context', 'share'];
  const cells = rows.map((r) => [r.client, String(r.requests), String(r.without_trace_context), `${(r.share_without * 100).toFixed(1)}%`]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const format = (line: string[]): string => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    '',
    'server requests by client: trace context in _meta (a client that sends none starts a new trace at the server)',
    format(header),
    ...cells.map(format),
  ].join('\n') + '\n';
}
