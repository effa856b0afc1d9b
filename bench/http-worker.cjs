'use strict';
/*
 * The load of the Streamable HTTP benchmarks: a process of plain (uninstrumented) MCP clients that
 * forks the server process (bench/http-server.cjs, the configuration under test) and drives it over
 * loopback. Every call carries a W3C traceparent in `_meta`, as from an instrumented caller, so the
 * server extracts a parent in every configuration. Spec in BENCH_SPEC; results to the orchestrator
 * over IPC. Everything is bounded by count and time.
 *
 *   family 'load'  (mode stateful | stateless): a server per configuration of `configs`; per entry of
 *                  `sessions`, that many clients per server calling tools/call back to back, the
 *                  servers measured in `slices` interleaved slices; server CPU per call from each
 *                  server's own cpuUsage()
 *   family 'churn' (stateful): `churn.sessions` sessions opened, used (`churn.callsPerSession`)
 *                  and closed by DELETE, heap after GC sampled every `churn.sampleEvery` sessions;
 *                  then `churn.idle` sessions held open: heap after GC with them open minus none
 */
const path = require('node:path');
const { fork } = require('node:child_process');

const spec = JSON.parse(process.env.BENCH_SPEC);
const LATENCY_CAPACITY = 1 << 18;
const FIRST_WARMUP_CALLS = 2000;
const CALL_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- server processes and their IPC
const servers = [];

/** Forks a server of configuration `config`; resolves with { config, url, ask(type, extra) }. */
function startServer(config) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'http-server.cjs'), [], {
      execArgv: ['--expose-gc', '--no-warnings', ...(process.env.BENCH_SERVER_NODE_ARGS || '').split(' ').filter(Boolean)],
      env: { ...process.env, BENCH_SPEC: JSON.stringify({ config, workDir: spec.workDir, sinkUrl: spec.sinkUrl, mode: spec.mode }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    servers.push(child);
    let nextId = 1;
    const pending = new Map();
    const ask = (type, extra) =>
      new Promise((done) => {
        const id = nextId++;
        pending.set(id, done);
        child.send({ id, type, ...extra });
      });
    child.on('message', (m) => {
      if (m.type === 'ready') resolve({ config, url: new URL(`http://127.0.0.1:${m.port}/mcp`), ask });
      else if (pending.has(m.id)) {
        pending.get(m.id)(m);
        pending.delete(m.id);
      }
    });
    child.on('exit', (code) => reject(new Error(`server ${config} exited with ${code}`)));
  });
}

// The orchestrator went away: take the servers down too.
process.on('disconnect', () => {
  for (const child of servers) child.kill();
  process.exit(1);
});

// ---------------------------------------------------------------- clients
let traceCounter = 0;
/** A fresh, valid traceparent per call (as an instrumented caller sends). */
function metaOfCall() {
  traceCounter++;
  const n = traceCounter.toString(16).padStart(16, '0');
  return { traceparent: `00-4bf92f3577b34da6${n}-${n}-01` };
}

function newClient() {
  if (spec.mode === 'stateless') {
    const { Client, StreamableHTTPClientTransport } = require('@modelcontextprotocol/client');
    // The 2026-07-28 era: no initialize, no session; each request says its version and client.
    const client = new Client({ name: 'bench-client', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    return { client, Transport: StreamableHTTPClientTransport };
  }
  const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
  return { client: new Client({ name: 'bench-client', version: '1.0.0' }), Transport: StreamableHTTPClientTransport };
}

async function openSession(url) {
  const { client, Transport } = newClient();
  const transport = new Transport(url);
  await client.connect(transport);
  return {
    client,
    async close() {
      // DELETE ends the session on the server (stateful); then the client side closes.
      if (spec.mode !== 'stateless' && typeof transport.terminateSession === 'function') await transport.terminateSession();
      await client.close();
    },
  };
}

function call(session, tool) {
  return session.client.callTool({ name: tool, arguments: {}, _meta: metaOfCall() }, undefined, { timeout: CALL_TIMEOUT_MS });
}

/** Calls back to back on every session for `durationMs`; latencies into `record` (a ring) from `offset`. */
async function drive(sessions, tool, durationMs, record, offset = 0) {
  let n = 0;
  const end = performance.now() + durationMs;
  async function lane(session) {
    while (performance.now() < end) {
      const start = performance.now();
      await call(session, tool);
      if (record) record[(offset + n) & (LATENCY_CAPACITY - 1)] = performance.now() - start;
      n++;
    }
  }
  await Promise.all(sessions.map(lane));
  return n;
}

async function driveCount(sessions, tool, count) {
  let left = count;
  async function lane(session) {
    while (left > 0) {
      left--;
      await call(session, tool);
    }
  }
  await Promise.all(sessions.map(lane));
}

/** Runs `task(i)` for i in [0, count) with `width` at a time. */
async function pool(count, width, task) {
  let next = 0;
  const lanes = [];
  for (let l = 0; l < Math.min(width, count); l++) {
    lanes.push(
      (async () => {
        while (next < count) await task(next++);
      })(),
    );
  }
  await Promise.all(lanes);
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);

// ---------------------------------------------------------------- families
/**
 * All configurations at once, one server each, measured in interleaved slices (the order rotated every
 * slice), so that every configuration sees the same machine: on a shared VM the speed drifts by tens of
 * percent within minutes. A server's CPU is read from the start of its first slice to the end of its
 * last, so work it defers (a batch export, a timer) while the others run is counted; calls are those of
 * its own slices.
 */
async function runLoad(targets) {
  const results = [];
  let warm = false;
  const slices = spec.slices || 1;
  const sliceMs = spec.measureMs / slices;
  for (const count of spec.sessions) {
    const state = [];
    for (const target of targets) {
      const sessions = [];
      await pool(count, 16, async () => sessions.push(await openSession(target.url)));
      state.push({ target, sessions, calls: 0, elapsedMs: 0, latencies: new Float64Array(LATENCY_CAPACITY) });
    }
    for (const st of state) {
      const warmed = await drive(st.sessions, spec.tool, spec.warmupMs, null);
      if (!warm && warmed < FIRST_WARMUP_CALLS) await driveCount(st.sessions, spec.tool, FIRST_WARMUP_CALLS - warmed);
    }
    warm = true;
    for (const st of state) st.before = await st.target.ask('cpu');
    for (let slice = 0; slice < slices; slice++) {
      const order = state.map((_, i) => state[(i + slice) % state.length]);
      if (slice % 2 === 1) order.reverse();
      for (const st of order) {
        const t0 = performance.now();
        st.calls += await drive(st.sessions, spec.tool, sliceMs, st.latencies, st.calls);
        st.elapsedMs += performance.now() - t0;
      }
    }
    for (const st of state) st.after = await st.target.ask('cpu');
    for (const st of state) {
      const sorted = Float64Array.from(st.latencies.subarray(0, Math.min(st.calls, LATENCY_CAPACITY))).sort();
      results.push({
        config: st.target.config,
        sessions: count,
        tool: spec.tool,
        calls: st.calls,
        serverToolCalls: st.after.toolCalls - st.before.toolCalls,
        elapsedMs: st.elapsedMs,
        callsPerSec: (st.calls * 1000) / st.elapsedMs,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        serverCpuUsPerCall: (st.after.cpuUs - st.before.cpuUs) / st.calls,
        serverOpenSessions: st.after.openSessions,
      });
      await pool(st.sessions.length, 16, (i) => st.sessions[i].close());
    }
  }
  return { results };
}

/** Least-squares slope of y over x. */
function slope(points, x, y) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[x], 0) / n;
  const my = points.reduce((a, p) => a + p[y], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p[x] - mx) * (p[y] - my);
    sxx += (p[x] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

async function runChurn(target) {
  const url = target.url;
  const ask = target.ask;
  const { sessions: total, callsPerSession, sampleEvery, width, idle } = spec.churn;
  const deadline = Date.now() + spec.churn.maxMs;
  const points = [];
  const t0 = performance.now();
  let done = 0;
  const oneSession = async () => {
    const s = await openSession(url);
    for (let c = 0; c < callsPerSession; c++) await call(s, c % 2 === 0 ? 'noop' : 'big');
    await s.close();
  };
  const cpu0 = await ask('cpu');
  while (done < total && Date.now() < deadline) {
    const n = Math.min(sampleEvery, total - done);
    await pool(n, width, oneSession);
    done += n;
    const h = await ask('heap');
    points.push({ sessions: done, heapUsed: h.heapUsed, openSessions: h.openSessions, tMs: performance.now() - t0 });
    if (process.send) process.send({ type: 'progress', done, calls: total });
  }
  const cpu1 = await ask('cpu');
  const warm = points.slice(Math.floor(points.length * 0.2)); // the first 20% is warm-up
  const churn = {
    sessions: done,
    callsPerSession,
    elapsedMs: performance.now() - t0,
    sessionsPerSec: (done * 1000) / (performance.now() - t0),
    serverCpuUsPerSession: (cpu1.cpuUs - cpu0.cpuUs) / done,
    openAtEnd: points.length ? points[points.length - 1].openSessions : null,
    slopeBytesPerSession: warm.length >= 2 ? slope(warm, 'sessions', 'heapUsed') : null,
    points,
  };

  // Idle: heap after GC with `idle` sessions open (each initialized and used once) minus with none.
  let idleResult = null;
  if (idle > 0 && Date.now() < deadline) {
    const zero = await ask('heap');
    if (process.env.BENCH_HEAP_SNAPSHOTS) await ask('snapshot', { file: path.join(process.env.BENCH_HEAP_SNAPSHOTS, `${spec.config}-open-0.heapsnapshot`) });
    const open = [];
    await pool(idle, 16, async () => {
      const s = await openSession(url);
      await call(s, 'noop');
      open.push(s);
    });
    const full = await ask('heap');
    // BENCH_HEAP_SNAPSHOTS=<dir>: heap snapshots of the server with none and with all open (diagnosis).
    if (process.env.BENCH_HEAP_SNAPSHOTS) {
      await ask('snapshot', { file: path.join(process.env.BENCH_HEAP_SNAPSHOTS, `${spec.config}-open-${open.length}.heapsnapshot`) });
    }
    await pool(open.length, 16, (i) => open[i].close());
    const closed = await ask('heap');
    idleResult = {
      sessions: open.length,
      openOnServer: full.openSessions,
      heapWithNoneMb: zero.heapUsed / 2 ** 20,
      heapWithAllMb: full.heapUsed / 2 ** 20,
      heapAfterClosingMb: closed.heapUsed / 2 ** 20,
      bytesPerOpenSession: (full.heapUsed - zero.heapUsed) / open.length,
      bytesLeftPerClosedSession: (closed.heapUsed - zero.heapUsed) / open.length,
    };
  }
  return { churn, idle: idleResult };
}

(async () => {
  const configs = spec.configs || [spec.config];
  const targets = [];
  for (const config of configs) targets.push(await startServer(config));
  const out = spec.family === 'churn' ? await runChurn(targets[0]) : await runLoad(targets);
  out.servers = {};
  for (const target of targets) {
    const d = await target.ask('describe');
    out.servers[target.config] = { described: d.described, stats: d.stats, peakRssKb: d.peakRssKb };
  }
  out.server = out.servers[configs[0]];
  out.clientPeakRssKb = process.resourceUsage().maxRSS;
  // Wait until the servers are gone (a profiled server writes its profile as it exits), 10 s at most.
  const gone = servers.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))));
  for (const target of targets) await target.ask('exit');
  await Promise.race([Promise.all(gone), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  process.send({ type: 'result', result: out }, () => process.exit(0));
})().catch((error) => {
  process.stderr.write(`bench http worker ${spec.config || spec.configs}: ${(error && error.stack) || error}\n`);
  for (const child of servers) child.kill();
  process.exit(1);
});
