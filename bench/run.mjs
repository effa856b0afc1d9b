#!/usr/bin/env node
/*
 * The benchmark orchestrator: `npm run bench [-- options]`.
 *
 * Spawns one worker process per configuration per round (instrumentations patch modules
 * process-wide), alternating the order of configurations between rounds, and measures tools/call
 * of a trivial tool and of a 10 kB-result tool, over in-memory transport and over stdio to a child
 * process, sequentially and with 64 calls in flight. Overhead is the median over rounds of
 * (bare calls/s ÷ configuration calls/s), bare measured in the same round.
 *
 * Options:
 *   --quick               2 rounds of short runs (a couple of minutes)
 *   --rounds <n>          rounds (default 3; --quick 2)
 *   --measure-ms <ms>     measured time per workload (default 800; --quick 350), after a warm-up of max(300, 40%)
 *   --only <a,b,...>      configurations to run (bare is always added)
 *   --no-write            do not write bench/results/latest.json
 *   --soak                the soak instead: everything on, heap after GC over time
 *   --soak-calls <n>      calls of the soak (default 1000000)
 *   --soak-concurrency <n> calls in flight during the soak (default 64)
 *   --soak-config <name>  configuration of the soak (default everything: tracing, metrics, JSON log, audit)
 *
 * Streamable HTTP (bench/http-run.mjs; a server process, the load from another):
 *   --http                1.x stateful sessions: 1, 32, 256 sessions calling back to back → bench/results/http.json
 *   --stateless           v2 createMcpHandler (2026-07-28), the same measures → bench/results/stateless.json
 *   --churn               10,000 sessions opened, used, closed; 1,000 idle open → bench/results/churn.json
 *   --soak --churn        one long churn (--soak-sessions, default 100000) of --soak-config
 *   --sessions <a,b,..>   session counts (default 1,32,256)    --tool noop|big (default noop)
 *   --churn-sessions <n>  (default 10000)  --idle-sessions <n> (default 1000)  --churn-max-s <s> (default 900)
 *   --out <file>          --http / --stateless: another file name under bench/results/
 *   --slices <n>          --http / --stateless: interleaved slices per measured point (default 6)
 */
import { fork, execSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const LOAD_AT_START = os.loadavg();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const require = createRequire(import.meta.url);
const { CONFIGS, BUILD } = require('./configs.cjs');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const quick = flag('--quick');
const rounds = Number(value('--rounds', quick ? 2 : 3));
const measureMs = Number(value('--measure-ms', quick ? 350 : 800));
const warmupMs = Math.max(300, Math.round(measureMs * 0.4));
const soak = flag('--soak');
const soakCalls = Number(value('--soak-calls', 1_000_000));
const soakConfig = value('--soak-config', 'everything');
const soakConcurrency = Number(value('--soak-concurrency', 64));
const writeJson = !flag('--no-write');

const DEFAULT_ORDER = [
  'bare', 'no-sdk', 'tracing', 'tracing+metrics', 'json-log', 'audit-interval', 'audit-fsync', 'sampled-1%',
  'floor', 'traceloop', 'arize', 'shinzo', 'sentry',
];
let names = DEFAULT_ORDER;
const only = value('--only', undefined);
if (only !== undefined) {
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of wanted) if (!CONFIGS[n]) throw new Error(`unknown configuration ${n}; known: ${Object.keys(CONFIGS).join(', ')}`);
  names = ['bare', ...wanted.filter((n) => n !== 'bare')];
}

const WORKLOADS = [];
for (const transport of ['memory', 'stdio']) {
  for (const tool of ['noop', 'big']) {
    for (const concurrency of [1, 64]) WORKLOADS.push({ transport, tool, concurrency });
  }
}
const workloadKey = (w) => `${w.transport}/${w.tool}/${w.concurrency === 1 ? 'seq' : `c${w.concurrency}`}`;
// --workloads memory/noop/seq,stdio/noop/c64: some workloads only (for iterating on one number).
const onlyWorkloads = value('--workloads', undefined);
if (onlyWorkloads !== undefined) {
  const wanted = new Set(onlyWorkloads.split(',').map((s) => s.trim()).filter(Boolean));
  const known = WORKLOADS.map(workloadKey);
  for (const w of wanted) if (!known.includes(w)) throw new Error(`unknown workload ${w}; known: ${known.join(', ')}`);
  for (let i = WORKLOADS.length - 1; i >= 0; i--) if (!wanted.has(workloadKey(WORKLOADS[i]))) WORKLOADS.splice(i, 1);
}

// ---------------------------------------------------------------- setup
if (!fs.existsSync(path.join(BUILD, 'index.js'))) {
  process.stderr.write(`bench: ${BUILD} is missing; running npm run build\n`);
  execSync('npm run build', { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}
const workDir = path.join(HERE, '.work');
fs.mkdirSync(workDir, { recursive: true });

/** A loopback OTLP/HTTP sink for exporters that can only send (Shinzo's): counts spans, answers 200. */
const sinkCounts = { spans: 0, metricRequests: 0, traceRequests: 0 };
const sink = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (req.url.endsWith('/traces')) {
        sinkCounts.traceRequests++;
        for (const rs of body.resourceSpans || []) for (const ss of rs.scopeSpans || []) sinkCounts.spans += (ss.spans || []).length;
      } else if (req.url.endsWith('/metrics')) {
        sinkCounts.metricRequests++;
      }
    } catch {}
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1`;

function runWorker(spec, onProgress) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(HERE, 'worker.cjs'), [], {
      cwd: ROOT,
      execArgv: ['--expose-gc', '--no-warnings'],
      env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    child.on('message', (m) => {
      if (m.type === 'result') result = m.result;
      else if (m.type === 'progress' && onProgress) onProgress(m);
    });
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`worker ${spec.config} exited with ${code} and no result`))));
  });
}

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function machine() {
  const pkg = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    cpuModel: os.cpus()[0] && os.cpus()[0].model,
    cores: os.cpus().length,
    totalMemGb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: LOAD_AT_START,
    versions: Object.fromEntries(
      [
        '@modelcontextprotocol/sdk', '@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/sdk-metrics',
        '@opentelemetry/context-async-hooks', '@opentelemetry/core', '@opentelemetry/instrumentation',
        '@traceloop/instrumentation-mcp', '@arizeai/openinference-instrumentation-mcp',
        '@shinzolabs/instrumentation-mcp', '@sentry/node',
      ].map((n) => [n, pkg(n)]),
    ),
    instrumentation: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
    gitCommit: (() => {
      try {
        return execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      } catch {
        return null;
      }
    })(),
    buildDir: path.relative(ROOT, BUILD),
    buildModified: fs.statSync(path.join(BUILD, 'index.js')).mtime.toISOString(),
  };
}

const fmt = (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);

// ---------------------------------------------------------------- Streamable HTTP families
const httpFamily = flag('--churn') ? (soak ? 'soak-churn' : 'churn') : flag('--stateless') ? 'stateless' : flag('--http') ? 'http' : undefined;
if (httpFamily !== undefined) {
  const { runHttpFamilies } = await import('./http-run.mjs');
  const pass = await runHttpFamilies({
    family: httpFamily,
    only: only === undefined ? undefined : only.split(',').map((x) => x.trim()).filter(Boolean),
    rounds: Number(value('--rounds', httpFamily === 'churn' ? 1 : quick ? 2 : 3)),
    measureMs: Number(value('--measure-ms', quick ? 1500 : 3000)),
    slices: Number(value('--slices', quick ? 3 : 6)),
    warmupMs: Number(value('--warmup-ms', quick ? 500 : 1000)),
    sessions: value('--sessions', '1,32,256').split(',').map(Number),
    tool: value('--tool', 'noop'),
    churnSessions: Number(value('--churn-sessions', 10_000)),
    idleSessions: Number(value('--idle-sessions', 1000)),
    soakSessions: Number(value('--soak-sessions', 100_000)),
    soakConfig,
    churnMaxMs: Number(value('--churn-max-s', 900)) * 1000,
    out: value('--out', undefined),
    workDir,
    sinkUrl,
    writeJson,
    machine,
  });
  sink.close();
  process.exit(pass ? 0 : 1);
}

// ---------------------------------------------------------------- soak
if (soak) {
  const samples = 50;
  process.stderr.write(`bench: soak, ${soakCalls} calls, configuration ${soakConfig}, ${soakConcurrency} in flight, heap after GC at ${samples} points\n`);
  const t0 = Date.now();
  const result = await runWorker(
    { config: soakConfig, workDir, sinkUrl, soak: { calls: soakCalls, samples, concurrency: soakConcurrency } },
    (m) => process.stderr.write(`\r  ${m.done}/${m.calls} calls`),
  );
  process.stderr.write('\n');
  const points = result.soak.points;
  const warm = points.slice(Math.floor(points.length * 0.2)); // the first 20% is warm-up
  const n = warm.length;
  const mx = warm.reduce((a, p) => a + p.calls, 0) / n;
  const my = warm.reduce((a, p) => a + p.heapUsed, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of warm) {
    sxy += (p.calls - mx) * (p.heapUsed - my);
    sxx += (p.calls - mx) ** 2;
  }
  const bytesPerCall = sxx > 0 ? sxy / sxx : 0;
  const limit = 1; // byte per call: 1 MB per million calls
  const summary = {
    configuration: soakConfig,
    calls: soakCalls,
    concurrency: soakConcurrency,
    jsonLogDroppedLines: points[points.length - 1].jsonLogDroppedLines,
    elapsedS: (Date.now() - t0) / 1000,
    callsPerSec: soakCalls / (result.soak.elapsedMs / 1000),
    heapAfterWarmupMb: warm[0].heapUsed / 2 ** 20,
    heapEndMb: warm[n - 1].heapUsed / 2 ** 20,
    slopeBytesPerCall: bytesPerCall,
    slopeMbPerMillionCalls: (bytesPerCall * 1e6) / 2 ** 20,
    limitBytesPerCall: limit,
    pass: bytesPerCall <= limit,
    peakRssMb: result.peakRssKb / 1024,
  };
  console.log('heap after GC (MB) by calls:');
  for (const p of points) console.log(`  ${padl(p.calls, 9)}  ${(p.heapUsed / 2 ** 20).toFixed(2)}${p.jsonLogDroppedLines ? `  (JSON log lines dropped so far: ${p.jsonLogDroppedLines})` : ''}`);
  console.log(JSON.stringify(summary, null, 2));
  console.log(summary.pass ? 'SOAK PASS: no heap growth after warm-up' : 'SOAK FAIL: the heap grows after warm-up');
  if (writeJson) {
    fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
    fs.writeFileSync(
      path.join(HERE, 'results', `soak-${soakConfig}-c${soakConcurrency}.json`),
      JSON.stringify({ date: new Date().toISOString(), machine: machine(), loadAverageAtEnd: os.loadavg(), summary, points }, null, 2) + '\n',
    );
  }
  sink.close();
  process.exit(summary.pass ? 0 : 1);
}

// ---------------------------------------------------------------- matrix
const started = Date.now();
const perRound = []; // perRound[r][config] = worker result
const sinkSpansPerConfig = {};
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  perRound.push({});
  for (const name of order) {
    process.stderr.write(`bench: round ${r + 1}/${rounds} ${name}\n`);
    const before = sinkCounts.spans;
    try {
      perRound[r][name] = await runWorker({ config: name, workDir, sinkUrl, warmupMs, measureMs, workloads: WORKLOADS });
    } catch (error) {
      process.stderr.write(`bench: ${name}: ${error.message}\n`);
      perRound[r][name] = { error: error.message };
    }
    sinkSpansPerConfig[name] = (sinkSpansPerConfig[name] || 0) + (sinkCounts.spans - before);
  }
}

const report = { date: new Date().toISOString(), options: { rounds, measureMs, warmupMs, quick }, machine: machine(), configurations: {} };
for (const name of names) {
  const ok = perRound.map((round) => round[name]).filter((x) => x && !x.error);
  const entry = { label: CONFIGS[name].label, workloads: {}, rounds: ok.length };
  if (ok.length === 0) {
    entry.error = perRound.map((round) => round[name] && round[name].error).find(Boolean);
    report.configurations[name] = entry;
    continue;
  }
  for (const w of WORKLOADS) {
    const key = workloadKey(w);
    const rows = ok.map((res) => res.results.find((x) => workloadKey(x) === key)).filter(Boolean);
    const ratios = [];
    perRound.forEach((round) => {
      const mine = round[name] && !round[name].error && round[name].results.find((x) => workloadKey(x) === key);
      const bare = round.bare && !round.bare.error && round.bare.results.find((x) => workloadKey(x) === key);
      if (mine && bare) ratios.push(bare.callsPerSec / mine.callsPerSec);
    });
    entry.workloads[key] = {
      callsPerSec: median(rows.map((x) => x.callsPerSec)),
      p50Ms: median(rows.map((x) => x.p50Ms)),
      p99Ms: median(rows.map((x) => x.p99Ms)),
      overhead: median(ratios),
      overheadPerRound: ratios,
      cpuUsPerCall: median(rows.map((x) => x.cpuUsPerCall)),
      heapBytesPerCall: median(rows.map((x) => x.heapBytesPerCall)),
    };
  }
  const last = ok[ok.length - 1];
  const mem = last.sides.memory || {};
  const std = last.sides.stdio || {};
  const serverDescribed = std.server || {};
  const perServerCall = (x) => (typeof x === 'number' && std.toolCalls ? x / std.toolCalls : null);
  // What the configuration produces per tools/call (last round). In memory both sides share one
  // process; over stdio the worker is the client and the child the server.
  entry.produces = {
    inMemory: mem.produced,
    stdioClient: std.client,
    stdioServer: {
      spansPerCall: perServerCall(serverDescribed.spansExported),
      metricPointsPerCall: serverDescribed.metricPoints
        ? Object.fromEntries(Object.entries(serverDescribed.metricPoints).map(([k, v]) => [k, perServerCall(v)]))
        : undefined,
    },
    spansPerCallToLoopbackSink:
      name === 'shinzo' ? sinkSpansPerConfig[name] / ok.reduce((a, x) => a + ((x.sides.memory || {}).toolCalls || 0) + ((x.sides.stdio || {}).toolCalls || 0), 0) : undefined,
    propagationInMemory: mem.propagation,
    propagationStdio: std.propagation,
  };
  entry.peakRssMb = Math.max(...ok.map((x) => x.peakRssKb)) / 1024;
  entry.stdioServerPeakRssMb = std && std.serverPeakRssKb ? std.serverPeakRssKb / 1024 : null;
  report.configurations[name] = entry;
}
report.elapsedS = (Date.now() - started) / 1000;
report.loadAverageAtEnd = os.loadavg();

// ---------------------------------------------------------------- table
const cols = WORKLOADS.map(workloadKey);
console.log(`\nMCP instrumentation overhead — ${rounds} rounds, ${measureMs} ms per workload, medians; ${report.machine.cpuModel} ×${report.machine.cores}, Node ${process.version}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('overhead = bare calls/s ÷ configuration calls/s (median of per-round ratios)\n');
for (const key of cols) {
  console.log(`${key}`);
  console.log(`  ${pad('configuration', 18)}${padl('calls/s', 9)}${padl('×bare', 7)}${padl('p50 ms', 8)}${padl('p99 ms', 8)}${padl('CPU µs/call', 12)}${padl('heap B/call', 12)}`);
  for (const name of names) {
    const e = report.configurations[name];
    const w = e.workloads && e.workloads[key];
    if (!w) {
      console.log(`  ${pad(name, 18)} failed: ${e.error}`);
      continue;
    }
    console.log(
      `  ${pad(name, 18)}${padl(fmt(w.callsPerSec), 9)}${padl(fmt(w.overhead, 2), 7)}${padl(fmt(w.p50Ms, 3), 8)}${padl(fmt(w.p99Ms, 2), 8)}${padl(fmt(w.cpuUsPerCall), 12)}${padl(fmt(w.heapBytesPerCall), 12)}`,
    );
  }
}
console.log("\nwhat each configuration produces per tools/call (last round). spans: in-memory (client+server in one process) / stdio client / stdio server;");
console.log("metric points: tools/call histogram points per call, in memory; propagation (memory, stdio): 'own' = injects a context of its own into _meta, 'caller' = continues the caller's active trace");
console.log(`  ${pad('configuration', 18)}${pad('spans mem/cli/srv', 20)}${pad('metric points/call (memory)', 44)}${pad('prop. memory', 14)}${pad('prop. stdio', 13)}${padl('RSS MB', 7)}${padl('srv RSS', 8)}`);
for (const name of names) {
  const e = report.configurations[name];
  if (!e.produces) continue;
  const p = e.produces;
  const yn = (x) => (x ? `${x.injectsOwnContext ? 'own' : '-'}/${x.continuesCallerTrace ? 'caller' : '-'}` : '—');
  const sp = (x) => (x && typeof x.spansPerCall === 'number' ? fmt(x.spansPerCall, 2) : '—');
  const spans = name === 'shinzo' ? `${fmt(p.spansPerCallToLoopbackSink, 2)} via OTLP` : `${sp(p.inMemory)}/${sp(p.stdioClient)}/${sp(p.stdioServer)}`;
  const mp = p.inMemory && p.inMemory.metricPointsPerCall;
  const metricsText = mp
    ? Object.entries(mp).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k.replace('.operation.duration', '')} ${fmt(v, 1)}`).join(', ') || 'none'
    : name === 'shinzo' ? '(own OTLP metric exporter)' : 'none';
  console.log(`  ${pad(name, 18)}${pad(spans, 20)}${pad(metricsText, 44)}${pad(yn(p.propagationInMemory), 14)}${pad(yn(p.propagationStdio), 13)}${padl(fmt(e.peakRssMb), 7)}${padl(fmt(e.stdioServerPeakRssMb), 8)}`);
}
console.log(`\nelapsed ${report.elapsedS.toFixed(0)} s`);

if (writeJson) {
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  fs.writeFileSync(path.join(HERE, 'results', 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  process.stderr.write('bench: wrote bench/results/latest.json\n');
}
sink.close();
