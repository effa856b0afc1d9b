'use strict';
/*
 * One benchmark worker: one configuration, one fresh process (instrumentations patch modules
 * process-wide). Spec in BENCH_SPEC (JSON); results go to the orchestrator over IPC — never stdout.
 *
 *   workloads: [{ transport: 'memory' | 'stdio', tool: 'noop' | 'big', concurrency }]
 *   warmupMs, measureMs per workload; soak: { calls, samples, concurrency } instead of workloads.
 */
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const { PerformanceObserver } = require('node:perf_hooks');
const { setImmediate: nextTurn } = require('node:timers/promises');
const { CONFIGS } = require('./configs.cjs');
const { registerTools, stats } = require('./workload.cjs');

const spec = JSON.parse(process.env.BENCH_SPEC);
const config = CONFIGS[spec.config];
const hooks = config.setup({ workDir: spec.workDir, sinkUrl: spec.sinkUrl, role: 'both' });

// Bare specifiers, as applications write them (instrumentations hook module names).
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { InMemoryTransport } = require('@modelcontextprotocol/sdk/inMemory.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

let clientCalls = 0; // tools/call completed by this process's client, all phases

const LATENCY_CAPACITY = 1 << 21;
const latencies = new Float64Array(LATENCY_CAPACITY);

function newServer() {
  let server = new McpServer({ name: 'bench-server', version: '1.0.0' });
  server = hooks.onServer(server) || server;
  registerTools(server);
  return server;
}

async function connectMemory() {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = newServer();
  await server.connect(serverSide);
  const client = new Client({ name: 'bench-client', version: '1.0.0' });
  await client.connect(clientSide);
  return {
    client,
    childPid: null,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

async function connectStdio() {
  const report = path.join(spec.workDir, `server-${process.pid}-${Date.now()}.json`);
  const transport = new StdioClientTransport({
    command: process.execPath,
    // BENCH_SERVER_NODE_ARGS: extra node options for the server child (bench/profile.mjs --side server).
    args: [...(process.env.BENCH_SERVER_NODE_ARGS || '').split(' ').filter(Boolean), '--no-warnings', path.join(__dirname, 'server.cjs')], // (the SDK's stdio transport adds a 'drain' listener per blocked write)
    env: { ...process.env, BENCH_SPEC: JSON.stringify(spec), BENCH_SERVER_REPORT: report },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'bench-client', version: '1.0.0' });
  await client.connect(transport);
  const childPid = transport.pid;
  return {
    client,
    childPid,
    async close() {
      await client.close();
      for (let i = 0; i < 100 && !fs.existsSync(report); i++) await new Promise((r) => setTimeout(r, 50));
      try {
        const data = JSON.parse(fs.readFileSync(report, 'utf8'));
        fs.rmSync(report, { force: true });
        return data;
      } catch {
        return null;
      }
    },
  };
}

/** CPU time (ns) of another process, from /proc (all its threads). */
function cpuNsOf(pid) {
  if (!pid) return 0;
  try {
    let total = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return total;
  } catch {
    return 0;
  }
}

function selfCpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function drive(client, tool, concurrency, durationMs, record) {
  let n = 0;
  const end = performance.now() + durationMs;
  const request = { name: tool, arguments: {} };
  async function lane() {
    while (performance.now() < end) {
      // Each call starts from a new event-loop turn, as a request arriving from I/O does. Without it
      // the in-memory transport runs call after call on microtasks alone: timers (the batch span
      // processor's export) and write callbacks (log, audit) would never run while measuring.
      await nextTurn();
      const start = performance.now();
      await client.callTool(request);
      clientCalls++;
      if (record) latencies[n & (LATENCY_CAPACITY - 1)] = performance.now() - start;
      n++;
    }
  }
  const lanes = [];
  for (let i = 0; i < concurrency; i++) lanes.push(lane());
  await Promise.all(lanes);
  return n;
}

async function driveCount(client, tool, concurrency, count) {
  let left = count;
  const request = { name: tool, arguments: {} };
  async function lane() {
    while (left > 0) {
      left--;
      await nextTurn();
      await client.callTool(request);
      clientCalls++;
    }
  }
  const lanes = [];
  for (let i = 0; i < Math.min(concurrency, count); i++) lanes.push(lane());
  await Promise.all(lanes);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Bytes allocated per call: heap growth over a run short enough that no GC happens in it. */
async function heapPerCall(client, tool, concurrency) {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  for (let n = 400; n >= 25; n = Math.floor(n / 2)) {
    global.gc();
    global.gc();
    await sleep(5);
    observer.observe({ entryTypes: ['gc'] });
    await sleep(5);
    gcs = 0;
    const before = v8.getHeapStatistics().used_heap_size;
    await driveCount(client, tool, concurrency, n);
    const after = v8.getHeapStatistics().used_heap_size;
    await sleep(5);
    observer.disconnect();
    if (gcs === 0 && after >= before) return (after - before) / n;
  }
  return null;
}

/**
 * The first workload on a connection also warms up by count: a stdio server child starts cold, and
 * at a few hundred calls per second a 300 ms warm-up is a few hundred calls, before V8 has optimised
 * the code on the path (more of it, with an instrumentation, so a time-only warm-up penalised
 * instrumented configurations in the first stdio workload).
 */
const FIRST_WARMUP_CALLS = 2000;

async function runWorkload(conn, w) {
  const warmed = await drive(conn.client, w.tool, w.concurrency, spec.warmupMs, false);
  if (!conn.warm) {
    conn.warm = true;
    if (warmed < FIRST_WARMUP_CALLS) await driveCount(conn.client, w.tool, w.concurrency, FIRST_WARMUP_CALLS - warmed);
  }
  const cpu0 = selfCpuNs();
  const child0 = cpuNsOf(conn.childPid);
  const t0 = performance.now();
  const calls = await drive(conn.client, w.tool, w.concurrency, spec.measureMs, true);
  const elapsedMs = performance.now() - t0;
  const cpuNs = selfCpuNs() - cpu0 + (cpuNsOf(conn.childPid) - child0);
  const kept = Math.min(calls, LATENCY_CAPACITY);
  const sorted = Float64Array.from(latencies.subarray(0, kept)).sort();
  const heap = spec.heap === false ? null : await heapPerCall(conn.client, w.tool, w.concurrency);
  return {
    ...w,
    calls,
    elapsedMs,
    callsPerSec: (calls * 1000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    cpuUsPerCall: cpuNs / 1000 / calls,
    heapBytesPerCall: heap,
  };
}

/**
 * What crosses the wire: calls the `probe` tool (which returns the `traceparent` it received) once
 * from the root context and once inside an active span of the global tracer.
 */
async function probePropagation(client) {
  const { trace, context } = require('@opentelemetry/api');
  const call = async () => {
    const r = await client.callTool({ name: 'probe', arguments: {} });
    return (r.content && r.content[0] && r.content[0].text) || '';
  };
  const fromRoot = await call();
  const span = trace.getTracer('bench-probe').startSpan('probe-parent');
  const fromSpan = await context.with(trace.setSpan(context.active(), span), call);
  span.end();
  const parentTrace = span.spanContext().traceId;
  return {
    injectsOwnContext: fromRoot !== '',
    continuesCallerTrace: parentTrace !== '00000000000000000000000000000000' && fromSpan.includes(parentTrace),
  };
}

async function safeDescribe() {
  try {
    return await hooks.describe();
  } catch (error) {
    return { error: String(error) };
  }
}

/** Per-call spans and metric points between two describe() snapshots. */
function delta(now, before, calls) {
  const out = {};
  if (typeof now.spansExported === 'number') out.spansPerCall = (now.spansExported - (before.spansExported || 0)) / calls;
  if (now.metricPoints) {
    out.metricPointsPerCall = {};
    for (const [k, v] of Object.entries(now.metricPoints)) {
      const d = v - ((before.metricPoints && before.metricPoints[k]) || 0);
      if (d > 0) out.metricPointsPerCall[k] = d / calls;
    }
  }
  return out;
}

let lastDescribed = {};

async function runMatrix() {
  const results = [];
  const sides = {};
  lastDescribed = await safeDescribe();
  for (const transport of ['memory', 'stdio']) {
    const mine = spec.workloads.filter((w) => w.transport === transport);
    if (mine.length === 0) continue;
    const conn = transport === 'memory' ? await connectMemory() : await connectStdio();
    const before = clientCalls;
    for (const w of mine) results.push(await runWorkload(conn, w));
    const calls = clientCalls - before;
    // What this process produced during the phase (forceFlush, then counters), before the probe.
    const produced = delta(await safeDescribe(), lastDescribed, calls);
    lastDescribed = await safeDescribe();
    const propagation = await probePropagation(conn.client);
    lastDescribed = await safeDescribe();
    const serverReport = await conn.close();
    if (transport === 'memory') {
      sides.memory = { toolCalls: calls, withTraceparent: stats.withTraceparent, propagation, produced };
    } else {
      sides.stdio = { client: produced, propagation };
    }
    if (transport === 'stdio' && serverReport) {
      sides.stdio = {
        ...sides.stdio,
        toolCalls: serverReport.stats.calls,
        withTraceparent: serverReport.stats.withTraceparent,
        server: serverReport.described,
        serverPeakRssKb: serverReport.peakRssKb,
      };
    }
  }
  return { results, sides };
}

async function runSoak() {
  const { calls, samples, concurrency } = spec.soak;
  const conn = await connectMemory();
  const step = Math.max(1, Math.floor(calls / samples));
  const points = [];
  const t0 = performance.now();
  let done = 0;
  while (done < calls) {
    const n = Math.min(step, calls - done);
    // Alternate the small and the 10 kB tool.
    await driveCount(conn.client, (points.length & 1) === 0 ? 'noop' : 'big', concurrency, n);
    done += n;
    global.gc();
    global.gc();
    // No describe() here: it force-flushes, which would drain the log's backlog at every sample.
    const d = hooks.counters ? hooks.counters() : {};
    points.push({
      calls: done,
      heapUsed: process.memoryUsage().heapUsed,
      rss: process.memoryUsage().rss,
      tMs: performance.now() - t0,
      jsonLogDroppedLines: d.jsonLogDroppedLines,
    });
    if (process.send) process.send({ type: 'progress', done, calls });
  }
  await conn.close();
  return { soak: { calls, concurrency, points, elapsedMs: performance.now() - t0 } };
}

(async () => {
  const out = spec.soak ? await runSoak() : await runMatrix();
  let described = {};
  try {
    described = await hooks.describe();
  } catch (error) {
    described = { error: String(error) };
  }
  out.described = described;
  out.peakRssKb = process.resourceUsage().maxRSS;
  out.config = spec.config;
  try {
    await hooks.shutdown();
  } catch {}
  process.send({ type: 'result', result: out }, () => process.exit(0));
})().catch((error) => {
  process.stderr.write(`bench worker ${spec.config}: ${(error && error.stack) || error}\n`);
  process.exit(1);
});
