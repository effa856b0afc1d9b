/*
 * The report page: one self-contained HTML document (styles, figures, Chart.js and the page script
 * inline; a Content-Security-Policy that allows nothing else), every string of the log escaped.
 */
import { createHash } from 'node:crypto';
import type { StatsGroup } from '../latency-groups';
import type { OutcomeRow, ReportData, TimeBucket } from './collector';
import { PAGE_SCRIPT } from './page-script';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value as HTML: markup in a tool name stays text. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON that can sit inside a `<script>` element whatever its strings hold. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Script text that cannot end its `<script>` element early. */
export function scriptText(source: string): string {
  return source.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/<(\/script|!--)/gi, '<\\$1');
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const WIDTH_NAMES: Array<[number, string]> = [
  [86400e3, 'day'],
  [3600e3, 'h'],
  [60e3, 'min'],
  [1e3, 's'],
  [1, 'ms'],
];

/** `30 s`, `5 min`, `1 day`. */
export function widthLabel(ms: number): string {
  for (const [unit, name] of WIDTH_NAMES) {
    if (ms >= unit && ms % unit === 0) {
      const n = ms / unit;
      return name === 'day' ? `${n} day${n === 1 ? '' : 's'}` : `${n} ${name}`;
    }
  }
  return `${ms} ms`;
}

function bucketLabel(startMs: number, widthMs: number, rangeMs: number): string {
  const iso = new Date(startMs).toISOString();
  if (widthMs >= 86400e3) return iso.slice(0, 10);
  const time = widthMs < 1e3 ? iso.slice(11, 23) : widthMs < 60e3 ? iso.slice(11, 19) : iso.slice(11, 16);
  return rangeMs >= 86400e3 ? `${iso.slice(5, 10)} ${time}` : time;
}

function duration(ms: number): string {
  if (ms < 1e3) return `${Math.round(ms)} ms`;
  if (ms < 120e3) return `${(ms / 1e3).toFixed(1)} s`;
  if (ms < 7200e3) return `${(ms / 60e3).toFixed(1)} min`;
  if (ms < 172800e3) return `${(ms / 3600e3).toFixed(1)} h`;
  return `${(ms / 86400e3).toFixed(1)} days`;
}

const ms3 = (value: number): string => value.toFixed(3);
const percent = (part: number, whole: number): string => (whole === 0 ? '0.0%' : `${((part / whole) * 100).toFixed(1)}%`);
const iso = (epochMs: number): string => (Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : '-');

/** A table of cells already HTML; columns `from` to `to` (exclusive) are numbers, right-aligned. */
function table(headers: string[], rows: string[][], from: number, to = headers.length): string {
  const n = (i: number): string => (i >= from && i < to ? ' class="n"' : '');
  const head = headers.map((h, i) => `<th${n(i)}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${n(i)}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const e = escapeHtml;
const nameOf = (g: { tool?: string; prompt?: string }): string => g.tool ?? g.prompt ?? '-';

function outcomesSection(tools: Record<'server' | 'client', OutcomeRow[]>): string {
  const sides = (['server', 'client'] as const).map((side) => {
    const rows = tools[side];
    if (rows.length === 0) return `<div><h3>${side} side</h3><p class="none">No tools/call on the ${side} side.</p></div>`;
    return `<div><h3>${side} side</h3><div class="chart"><canvas id="chart-outcomes-${side}" role="img" aria-label="calls per tool by outcome, ${side} side"></canvas></div></div>`;
  });
  const rows = [...tools.server, ...tools.client].map((r) => [
    e(r.side),
    `<code>${e(r.name ?? '-')}</code>`,
    String(r.ok + r.errors.reduce((n, [, c]) => n + c, 0)),
    String(r.ok),
    r.errors.length === 0 ? '-' : r.errors.map(([type, count]) => `${e(type)} ${count}`).join(', '),
  ]);
  return `<section id="outcomes"><h2>Calls per tool by outcome</h2>
<p class="hint">tools/call operations; <span class="ok">ok</span> or the <code>error.type</code> of the failure. Server side: calls this process answered; client side: calls it made.</p>
<div class="sides">${sides.join('\n')}</div>
${rows.length > 0 ? table(['side', 'tool', 'calls', 'ok', 'errors by type'], rows, 2, 4) : ''}</section>`;
}

function latencySection(groups: StatsGroup[]): string {
  const rows = groups.map((g) => [
    e(g.side),
    e(g.method),
    `<code>${e(nameOf(g))}</code>`,
    String(g.count),
    String(g.errors),
    percent(g.errors, g.count),
    ms3(g.mean_ms),
    ms3(g.p50_ms),
    ms3(g.p95_ms),
    ms3(g.p99_ms),
    ms3(g.max_ms),
  ]);
  return `<section id="latency"><h2>Latency per tool</h2>
<div class="chart"><canvas id="chart-latency" role="img" aria-label="latency per tool: p50, p95, p99 and max"></canvas></div>
${table(['side', 'method', 'tool/prompt', 'calls', 'errors', 'err%', 'mean', 'p50', 'p95', 'p99', 'max'], rows, 3)}
<p class="hint">Milliseconds. p50, p95 and p99 within 0.1% + 0.001 ms (HdrHistogram); count, errors, mean and max exact.</p></section>`;
}

function errorsSection(outcomes: OutcomeRow[]): string {
  const rows = outcomes.flatMap((o) => o.errors.map(([type, count]) => [e(o.side), e(o.method), `<code>${e(o.name ?? '-')}</code>`, `<code>${e(type)}</code>`, String(count)]));
  return `<section id="errors"><h2>Error types per tool</h2>
${rows.length === 0 ? '<p class="none">No failed operation.</p>' : table(['side', 'method', 'tool/prompt', 'error.type', 'count'], rows, 4)}</section>`;
}

function slowestSection(data: ReportData): string {
  const rows = data.slowest.map((s) => [
    e(iso(s.startMs)),
    e(s.side),
    e(s.method),
    `<code>${e(s.name ?? '-')}</code>`,
    ms3(s.latencyMs),
    s.ok ? '<span class="ok">ok</span>' : `<span class="err">${e(s.errorType ?? 'error')}</span>`,
    `<code class="id">${e(s.traceId ?? '-')}</code>`,
    `<code class="id">${e(s.spanId ?? '-')}</code>`,
  ]);
  return `<section id="slowest"><h2>Slowest operations</h2>
<p class="hint">The ${data.slowest.length} slowest; look them up by trace id in your tracing backend.</p>
${table(['start (UTC)', 'side', 'method', 'tool/prompt', 'latency ms', 'outcome', 'trace_id', 'span_id'], rows, 4, 5)}</section>`;
}

function header(data: ReportData): string {
  const range = Number.isFinite(data.firstMs)
    ? `${e(iso(data.firstMs))} to ${e(iso(data.lastMs))} (${duration(data.lastMs - data.firstMs)})`
    : 'no timestamps';
  const sources = data.sources.map((s) => `<code>${e(s === '-' ? 'standard input' : s)}</code>`).join(', ');
  const server = data.latency.filter((g) => g.side === 'server').reduce((n, g) => n + g.count, 0);
  return `<header><h1>MCP operations</h1>
<dl>
<dt>time range</dt><dd id="range">${range}</dd>
<dt>operations</dt><dd id="totals"><b>${data.operations}</b> (${server} server side, ${data.operations - server} client side); <b>${data.errors}</b> failed (${percent(data.errors, data.operations)})</dd>
<dt>lines</dt><dd id="lines">${data.lines} read; skipped <b>${data.malformed}</b> malformed and ${data.foreign} foreign (not MCP operations)</dd>
<dt>source</dt><dd id="sources">${sources}</dd>
</dl></header>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 14px; margin: 8px 0; color: #555; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; } dt { color: #666; } dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td { white-space: nowrap; } .n { text-align: right; font-variant-numeric: tabular-nums; } code { font: 12px ui-monospace, Menlo, Consolas, monospace; } code.id { color: #555; }
.chart { position: relative; height: 280px; } .sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.hint, .none { color: #666; font-size: 13px; margin: 4px 0; } .ok { color: #2e7d4f; } .err { color: #b3261e; }
.empty { font-size: 16px; padding: 16px; background: #fff6e5; border: 1px solid #f0d9a8; }
`;

/** The whole page. `library` is Chart.js's UMD build. */
export function renderReport(data: ReportData, library: string, generatedAt: Date): string {
  const toolRows = (side: string): OutcomeRow[] => data.outcomes.filter((o) => o.side === side && o.method === 'tools/call');
  const range = Number.isFinite(data.firstMs) ? data.lastMs - data.firstMs : 0;
  const figures = {
    tools: { server: toolRows('server'), client: toolRows('client') },
    toolLatency: data.latency.filter((g) => g.method === 'tools/call'),
    bucketLabel: widthLabel(data.bucketMs),
    buckets: data.buckets.map((b: TimeBucket) => ({ ...b, label: bucketLabel(b.startMs, data.bucketMs, range) })),
  };
  const lib = scriptText(library);
  const body =
    data.operations === 0
      ? `<p class="empty" id="empty">No MCP operations in this log${data.lines > 0 ? ` (${data.lines} line(s), none of them an MCP operation)` : ''}.</p>`
      : [
          outcomesSection(figures.tools),
          latencySection(data.latency),
          `<section id="over-time"><h2>Calls and errors over time</h2><p class="hint">Operations started per ${e(figures.bucketLabel)} (UTC).</p><div class="chart"><canvas id="chart-time" role="img" aria-label="calls and errors over time"></canvas></div></section>`,
          errorsSection(data.outcomes),
          slowestSection(data),
        ].join('\n');
  const csp = `default-src 'none'; script-src ${sha256(lib)} ${sha256(PAGE_SCRIPT)}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mcp-otel report">
<title>MCP operations report</title>
<style>${STYLE}</style>
</head>
<body>
${header(data)}
${body}
<footer class="hint">Written by <code>mcp-otel report</code> at ${e(generatedAt.toISOString())}; charts by Chart.js (MIT), inlined.</footer>
<script type="application/json" id="report-data">${scriptJson(figures)}</script>
<script>${lib}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
