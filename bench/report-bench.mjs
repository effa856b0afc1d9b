#!/usr/bin/env node
// `mcp-otel report` on a 1,000,000-line log: wall time and peak RSS of the real CLI.
//
//   npm run build && node bench/report-bench.mjs [LINES]
//
// Writes a log of LINES (default 1,000,000) realistic lines (six tools, two sides, 5% failures,
// long-tailed latencies, one hour of timestamps) to a temporary directory, runs
// `node build/src/cli/main.js report LOG -o OUT.html` (and `stats` on the same log, for comparison)
// with a preload that reports the process's peak RSS, and prints the figures. Not a test: numbers
// go to docs/report.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'build', 'src', 'cli', 'main.js');
const lines = Number(process.argv[2] ?? 1_000_000);
if (!fs.existsSync(cli)) {
  console.error('report-bench: run `npm run build` first');
  process.exit(1);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-report-bench-'));
try {
  const log = path.join(dir, 'ops.log');
  const preload = path.join(dir, 'peak-rss.cjs');
  fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\\n`));\n");

  // A deterministic PRNG (mulberry32).
  let seed = 20260105;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tools = [['search', 25], ['fetch', 80], ['add', 0.4], ['report', 400], ['translate', 120], ['lookup', 3]];
  const start = Date.parse('2026-01-05T10:00:00.000Z');
  const out = fs.openSync(log, 'w');
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const [tool, scale] = tools[Math.floor(random() * tools.length)];
    const side = random() < 0.5 ? 'server' : 'client';
    const latency = Math.round(scale * Math.exp(2 * random() * random() * 3) * 1e6) / 1e6;
    const ok = random() >= 0.05;
    const ts = new Date(start + Math.floor((i / lines) * 3600e3)).toISOString();
    const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
    chunk +=
      `{"ts":"${ts}","level":"${ok ? 'info' : 'error'}","side":"${side}","method":"tools/call","tool":"${tool}","request_id":"${i}",` +
      `"session_id":"4f1c2a9e-${hex(4)}","latency_ms":${latency},"ok":${ok}${ok ? '' : ',"error":{"type":"tool_error","message":"upstream failed"}'},` +
      `"trace_id":"${hex(32)}","span_id":"${hex(16)}","transport":"tcp","peer_name":"bench-client","peer_version":"1.0.0"}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(out, chunk);
      chunk = '';
    }
  }
  fs.writeSync(out, chunk);
  fs.closeSync(out);
  const size = fs.statSync(log).size;
  console.log(`log: ${lines.toLocaleString('en')} lines, ${(size / 1024 / 1024).toFixed(0)} MiB; node ${process.version}, ${os.cpus().length} cpu(s)`);

  const measure = (label, args) => {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--require', preload, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr}`);
    const rss = Number(/peak-rss-kb (\d+)/.exec(r.stderr)?.[1]) / 1024;
    console.log(`${label.padEnd(8)} ${seconds.toFixed(2)} s, ${Math.round(lines / seconds).toLocaleString('en')} lines/s, peak RSS ${rss.toFixed(0)} MiB`);
  };
  const html = path.join(dir, 'report.html');
  measure('report', ['report', log, '-o', html]);
  console.log(`         page: ${(fs.statSync(html).size / 1024).toFixed(0)} KiB`);
  measure('stats', ['stats', '--json', log]);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
