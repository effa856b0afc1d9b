/*
 * The Streamable HTTP families of `npm run bench`, driven from bench/run.mjs: `--http` (1.x, stateful
 * sessions), `--stateless` (v2 createMcpHandler, 2026-07-28), `--churn` (sessions opened, used and
 * closed; idle sessions held open) and `--soak --churn`. Each run forks one load process
 * (bench/http-worker.cjs) per configuration per round, which forks the server process; the server
 * reports its own CPU (all threads) and heap after GC. Results: bench/results/{http,stateless,churn}.json.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { CONFIGS } = createRequire(import.meta.url)('./configs.cjs');

const TARGETS = {
  cpuOverBareAt32: 1.15, // tracing+metrics, server CPU per call, 32 sessions
  cpuOverFloorAt32: 1.05,
  churnSlopeBeyondBare: 64, // bytes per session
  idleBeyondBare: 2048, // bytes per open session
};

const fmt = (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** One load process (and its server); bounded: killed after `timeoutMs`. */
function runHttpWorker(spec, timeoutMs, onProgress) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(HERE, 'http-worker.cjs'), [], {
      cwd: ROOT,
      execArgv: ['--no-warnings'],
      env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (m) => {
      if (m.type === 'result') result = m.result;
      else if (m.type === 'progress' && onProgress) onProgress(m);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`http worker ${spec.config} exited with ${signal || code} and no result`));
    });
  });
}

function httpNames(family, only) {
  const defaults =
    family === 'churn'
      ? ['bare', 'tracing+metrics', 'everything']
      : family === 'stateless'
      ? ['bare', 'tracing+metrics', 'floor', 'everything', 'sentry']
      : ['bare', 'tracing+metrics', 'floor', 'everything', 'traceloop', 'arize', 'sentry', 'shinzo'];
  let names = only ? ['bare', ...only.filter((n) => n !== 'bare')] : defaults;
  for (const n of names) if (!CONFIGS[n]) throw new Error(`unknown configuration ${n}`);
  const skipped = {};
  names = names.filter((n) => {
    const why = CONFIGS[n].noHttp || (family === 'stateless' ? CONFIGS[n].noStateless : undefined);
    if (why) skipped[n] = why;
    return !why;
  });
  return { names, skipped };
}

function write(writeJson, file, report) {
  if (!writeJson) return;
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  fs.writeFileSync(path.join(HERE, 'results', file), JSON.stringify(report, null, 2) + '\n');
  process.stderr.write(`bench: wrote bench/results/${file}\n`);
}

/** --http / --stateless: throughput, server CPU per call, latency at 1, 32, 256 sessions. */
async function runLoadFamily(o) {
  const mode = o.family === 'stateless' ? 'stateless' : 'stateful';
  const { names, skipped } = httpNames(o.family, o.only);
  const started = Date.now();
  const perRound = [];
  for (let r = 0; r < o.rounds; r++) {
    // One load process per round, a server per configuration, all measured in interleaved slices.
    const order = r % 2 === 0 ? names : [...names].reverse();
    perRound.push({});
    process.stderr.write(`bench: ${o.family} round ${r + 1}/${o.rounds}: ${order.join(', ')}, interleaved\n`);
    const spec = { family: 'load', mode, configs: order, workDir: o.workDir, sinkUrl: o.sinkUrl, sessions: o.sessions, tool: o.tool, warmupMs: o.warmupMs, measureMs: o.measureMs, slices: o.slices };
    const budget = 180_000 + o.sessions.length * names.length * (o.warmupMs + o.measureMs) * 6;
    try {
      const out = await runHttpWorker(spec, budget);
      for (const name of names) perRound[r][name] = { results: out.results.filter((x) => x.config === name), server: out.servers[name] };
    } catch (error) {
      process.stderr.write(`bench: round ${r + 1}: ${error.message}\n`);
      for (const name of names) perRound[r][name] = { error: error.message };
    }
  }
  const rowOf = (res, sessions) => res && !res.error && res.results.find((x) => x.sessions === sessions);
  const report = {
    date: new Date().toISOString(),
    family: o.family,
    transport: mode === 'stateless' ? 'v2 createMcpHandler + toNodeHandler, 2026-07-28 era (a server per request)' : '1.x StreamableHTTPServerTransport, a McpServer per session',
    options: { rounds: o.rounds, measureMs: o.measureMs, warmupMs: o.warmupMs, slices: o.slices, sessions: o.sessions, tool: o.tool },
    method: 'per round one load process and one server process per configuration, all alive; per session count the servers are measured in interleaved slices (order rotated each slice), each server\'s CPU read from the start of its first slice to the end of its last',
    machine: o.machine(),
    targets: mode === 'stateful' ? TARGETS : { cpuOverBareAt32: TARGETS.cpuOverBareAt32, cpuOverFloorAt32: TARGETS.cpuOverFloorAt32 },
    skipped,
    configurations: {},
  };
  for (const name of names) {
    const ok = perRound.map((round) => round[name]).filter((x) => x && !x.error);
    const entry = { label: CONFIGS[name].label, rounds: ok.length, bySessions: {} };
    if (ok.length === 0) {
      entry.error = perRound.map((round) => round[name] && round[name].error).find(Boolean);
      report.configurations[name] = entry;
      continue;
    }
    for (const sessions of o.sessions) {
      const rows = ok.map((res) => rowOf(res, sessions)).filter(Boolean);
      const ratio = (other, field, invert) =>
        perRound
          .map((round) => {
            const mine = rowOf(round[name], sessions);
            const base = rowOf(round[other], sessions);
            return mine && base ? (invert ? base[field] / mine[field] : mine[field] / base[field]) : null;
          })
          .filter((x) => x !== null);
      const cpuOverBare = ratio('bare', 'serverCpuUsPerCall');
      const cpuOverFloor = names.includes('floor') ? ratio('floor', 'serverCpuUsPerCall') : [];
      // What the configuration adds on top of tracing + metrics, in units of bare (the log and audit targets).
      const beyondTracingMetrics = perRound
        .map((round) => {
          const mine = rowOf(round[name], sessions);
          const tm = rowOf(round['tracing+metrics'], sessions);
          const base = rowOf(round.bare, sessions);
          return mine && tm && base ? (mine.serverCpuUsPerCall - tm.serverCpuUsPerCall) / base.serverCpuUsPerCall : null;
        })
        .filter((x) => x !== null);
      entry.bySessions[sessions] = {
        callsPerSec: median(rows.map((x) => x.callsPerSec)),
        serverCpuUsPerCall: median(rows.map((x) => x.serverCpuUsPerCall)),
        p50Ms: median(rows.map((x) => x.p50Ms)),
        p99Ms: median(rows.map((x) => x.p99Ms)),
        serverCpuShare: median(rows.map((x) => x.serverCpuShare)),
        cpuOverBare: median(cpuOverBare),
        cpuOverBarePerRound: cpuOverBare,
        cpuOverFloor: median(cpuOverFloor),
        cpuOverFloorPerRound: cpuOverFloor,
        throughputOverBare: median(ratio('bare', 'callsPerSec', true)),
        beyondTracingMetricsInBare: median(beyondTracingMetrics),
        cpuUsPerCallPerRound: rows.map((x) => x.serverCpuUsPerCall),
      };
    }
    const last = ok[ok.length - 1];
    const d = (last.server && last.server.described) || {};
    const toolCalls = last.server && last.server.stats ? last.server.stats.calls : 0;
    entry.produces = {
      serverSpansPerCall: typeof d.spansExported === 'number' && toolCalls ? d.spansExported / toolCalls : null,
      serverMetricPointsPerCall: d.metricPoints && toolCalls ? (d.metricPoints['mcp.server.operation.duration'] || 0) / toolCalls : null,
      serverSpanAttributes: d.serverToolSpanAttributes,
      serverMetricAttributes: d.serverMetricAttributes,
      callsWithTraceparent: last.server && last.server.stats ? last.server.stats.withTraceparent / Math.max(1, toolCalls) : null,
    };
    entry.serverPeakRssMb = Math.max(...ok.map((x) => (x.server && x.server.peakRssKb) || 0)) / 1024;
    report.configurations[name] = entry;
  }
  report.elapsedS = (Date.now() - started) / 1000;
  report.loadAverageAtEnd = os.loadavg();

  const at32 = (n) => report.configurations[n] && report.configurations[n].bySessions && report.configurations[n].bySessions[32];
  const tm = at32('tracing+metrics');
  if (tm) {
    report.verdict = {
      tracingMetricsCpuOverBareAt32: tm.cpuOverBare,
      meetsBareTarget: tm.cpuOverBare !== null && tm.cpuOverBare <= TARGETS.cpuOverBareAt32,
      tracingMetricsCpuOverFloorAt32: tm.cpuOverFloor,
      meetsFloorTarget: tm.cpuOverFloor !== null ? tm.cpuOverFloor <= TARGETS.cpuOverFloorAt32 : null,
    };
  }

  console.log(`\nStreamable HTTP, ${report.transport}; tool ${o.tool}; ${o.rounds} rounds, ${o.measureMs} ms per point in ${o.slices} interleaved slices, medians; ${report.machine.cpuModel} ×${report.machine.cores}, Node ${process.version}; load ${report.machine.loadAverageAtStart.map((x) => x.toFixed(1)).join(' ')} → ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('server CPU = the server process\'s own cpuUsage() (all threads) over the measured window ÷ calls; ×bare and ×floor are medians of per-round ratios of it;');
  console.log('+×bare/t+m = (configuration − tracing+metrics) ÷ bare, server CPU per call (what a log or audit adds, in units of bare)\n');
  for (const sessions of o.sessions) {
    console.log(`${sessions} session${sessions === 1 ? '' : 's'}`);
    console.log(`  ${pad('configuration', 18)}${padl('calls/s', 9)}${padl('srv CPU µs/call', 16)}${padl('×bare', 7)}${padl('×floor', 8)}${padl('+×bare/t+m', 11)}${padl('p50 ms', 8)}${padl('p99 ms', 8)}`);
    for (const name of names) {
      const e = report.configurations[name];
      const w = e.bySessions && e.bySessions[sessions];
      if (!w) {
        console.log(`  ${pad(name, 18)} failed: ${e.error}`);
        continue;
      }
      console.log(`  ${pad(name, 18)}${padl(fmt(w.callsPerSec), 9)}${padl(fmt(w.serverCpuUsPerCall), 16)}${padl(fmt(w.cpuOverBare, 2), 7)}${padl(fmt(w.cpuOverFloor, 2), 8)}${padl(fmt(w.beyondTracingMetricsInBare, 2), 11)}${padl(fmt(w.p50Ms, 2), 8)}${padl(fmt(w.p99Ms, 2), 8)}`);
    }
  }
  console.log('\nserver side, per tools/call (last round): spans, histogram points, SERVER span attributes');
  for (const name of names) {
    const p = report.configurations[name].produces;
    if (!p) continue;
    console.log(`  ${pad(name, 18)}${pad(fmt(p.serverSpansPerCall, 2), 6)}${pad(fmt(p.serverMetricPointsPerCall, 2), 6)}${(p.serverSpanAttributes || []).join(' ')}`);
  }
  for (const [n, why] of Object.entries(skipped)) console.log(`  not measured: ${n}: ${why}`);
  if (report.verdict) console.log(`\ntargets at 32 sessions, tracing+metrics: ×bare ${fmt(report.verdict.tracingMetricsCpuOverBareAt32, 3)} (≤ ${TARGETS.cpuOverBareAt32}), ×floor ${fmt(report.verdict.tracingMetricsCpuOverFloorAt32, 3)} (≤ ${TARGETS.cpuOverFloorAt32})`);
  console.log(`elapsed ${report.elapsedS.toFixed(0)} s`);
  write(o.writeJson, o.out || (mode === 'stateless' ? 'stateless.json' : 'http.json'), report);
}

/** --churn: sessions opened, used, closed (heap slope per session); idle sessions held open. */
async function runChurnFamily(o) {
  const { names } = httpNames('churn', o.only);
  const started = Date.now();
  const perRound = [];
  const churn = { sessions: o.churnSessions, callsPerSession: 3, sampleEvery: Math.max(1, Math.round(o.churnSessions / 20)), width: 8, idle: o.idleSessions, maxMs: o.churnMaxMs };
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    perRound.push({});
    for (const name of order) {
      process.stderr.write(`bench: churn round ${r + 1}/${o.rounds} ${name}\n`);
      const spec = { family: 'churn', mode: 'stateful', config: name, workDir: o.workDir, sinkUrl: o.sinkUrl, churn };
      try {
        perRound[r][name] = await runHttpWorker(spec, o.churnMaxMs + 180_000, (m) => process.stderr.write(`\r  ${m.done}/${m.calls} sessions`));
        process.stderr.write('\n');
      } catch (error) {
        process.stderr.write(`\nbench: ${name}: ${error.message}\n`);
        perRound[r][name] = { error: error.message };
      }
    }
  }
  const report = { date: new Date().toISOString(), family: 'churn', options: { rounds: o.rounds, ...churn }, machine: o.machine(), targets: { churnSlopeBeyondBare: TARGETS.churnSlopeBeyondBare, idleBeyondBare: TARGETS.idleBeyondBare }, configurations: {} };
  for (const name of names) {
    const ok = perRound.map((round) => round[name]).filter((x) => x && !x.error);
    const diffs = (field, sub) =>
      perRound
        .map((round) => {
          const mine = round[name] && !round[name].error && round[name][sub];
          const base = round.bare && !round.bare.error && round.bare[sub];
          return mine && base ? mine[field] - base[field] : null;
        })
        .filter((x) => x !== null);
    report.configurations[name] = ok.length === 0
      ? { label: CONFIGS[name].label, error: perRound.map((round) => round[name] && round[name].error).find(Boolean) }
      : {
          label: CONFIGS[name].label,
          rounds: ok.length,
          slopeBytesPerSession: median(ok.map((x) => x.churn.slopeBytesPerSession)),
          slopePerRound: ok.map((x) => x.churn.slopeBytesPerSession),
          slopeBeyondBare: median(diffs('slopeBytesPerSession', 'churn')),
          sessionsPerSec: median(ok.map((x) => x.churn.sessionsPerSec)),
          serverCpuUsPerSession: median(ok.map((x) => x.churn.serverCpuUsPerSession)),
          openAtEnd: ok.map((x) => x.churn.openAtEnd),
          idleBytesPerOpenSession: median(ok.map((x) => x.idle && x.idle.bytesPerOpenSession)),
          idlePerRound: ok.map((x) => x.idle && x.idle.bytesPerOpenSession),
          idleBeyondBare: median(diffs('bytesPerOpenSession', 'idle')),
          idleLeftPerClosedSession: median(ok.map((x) => x.idle && x.idle.bytesLeftPerClosedSession)),
          serverPeakRssMb: Math.max(...ok.map((x) => (x.server && x.server.peakRssKb) || 0)) / 1024,
          points: ok[ok.length - 1].churn.points,
        };
  }
  report.elapsedS = (Date.now() - started) / 1000;
  report.loadAverageAtEnd = os.loadavg();
  console.log(`\nSession churn (1.x Streamable HTTP, stateful): ${churn.sessions} sessions × (initialize, ${churn.callsPerSession} calls, DELETE), ${churn.width} at a time, heap after GC every ${churn.sampleEvery}; then ${churn.idle} idle open sessions. ${o.rounds} round(s), medians; load ${report.machine.loadAverageAtStart.map((x) => x.toFixed(1)).join(' ')} → ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`  ${pad('configuration', 18)}${padl('slope B/session', 16)}${padl('− bare', 8)}${padl('idle B/session', 15)}${padl('− bare', 8)}${padl('left B/closed', 14)}${padl('sessions/s', 11)}${padl('srv CPU µs/session', 19)}`);
  for (const name of names) {
    const e = report.configurations[name];
    if (e.error) {
      console.log(`  ${pad(name, 18)} failed: ${e.error}`);
      continue;
    }
    console.log(`  ${pad(name, 18)}${padl(fmt(e.slopeBytesPerSession, 1), 16)}${padl(fmt(e.slopeBeyondBare, 1), 8)}${padl(fmt(e.idleBytesPerOpenSession), 15)}${padl(fmt(e.idleBeyondBare), 8)}${padl(fmt(e.idleLeftPerClosedSession), 14)}${padl(fmt(e.sessionsPerSec), 11)}${padl(fmt(e.serverCpuUsPerSession), 19)}`);
  }
  console.log(`targets: slope ≤ bare + ${TARGETS.churnSlopeBeyondBare} B/session; idle ≤ bare + ${TARGETS.idleBeyondBare} B/open session`);
  console.log(`elapsed ${report.elapsedS.toFixed(0)} s`);
  write(o.writeJson, 'churn.json', report);
}

/** --soak --churn: one long churn of one configuration, heap after GC at 50 points. */
async function runChurnSoak(o) {
  const churn = { sessions: o.soakSessions, callsPerSession: 3, sampleEvery: Math.max(1, Math.round(o.soakSessions / 50)), width: 8, idle: 0, maxMs: o.churnMaxMs };
  process.stderr.write(`bench: HTTP churn soak, ${churn.sessions} sessions, configuration ${o.soakConfig}\n`);
  const result = await runHttpWorker({ family: 'churn', mode: 'stateful', config: o.soakConfig, workDir: o.workDir, sinkUrl: o.sinkUrl, churn }, o.churnMaxMs + 180_000, (m) =>
    process.stderr.write(`\r  ${m.done}/${m.calls} sessions`),
  );
  process.stderr.write('\n');
  const c = result.churn;
  const summary = {
    configuration: o.soakConfig,
    sessions: c.sessions,
    callsPerSession: c.callsPerSession,
    sessionsPerSec: c.sessionsPerSec,
    serverCpuUsPerSession: c.serverCpuUsPerSession,
    openAtEnd: c.openAtEnd,
    slopeBytesPerSession: c.slopeBytesPerSession,
    limitBytesPerSession: TARGETS.churnSlopeBeyondBare,
    pass: c.slopeBytesPerSession <= TARGETS.churnSlopeBeyondBare && c.sessions === churn.sessions,
    serverPeakRssMb: (result.server.peakRssKb || 0) / 1024,
  };
  console.log('server heap after GC (MB) by sessions:');
  for (const p of c.points) console.log(`  ${padl(p.sessions, 9)}  ${(p.heapUsed / 2 ** 20).toFixed(2)}  (open: ${p.openSessions})`);
  console.log(JSON.stringify(summary, null, 2));
  console.log(summary.pass ? 'SOAK PASS: no heap growth per session after warm-up' : 'SOAK FAIL: the heap grows per session (or the run was cut short)');
  write(o.writeJson, `soak-churn-${o.soakConfig}.json`, { date: new Date().toISOString(), machine: o.machine(), loadAverageAtEnd: os.loadavg(), summary, points: c.points });
  return summary.pass;
}

export async function runHttpFamilies(o) {
  if (o.family === 'soak-churn') return runChurnSoak(o);
  if (o.family === 'churn') await runChurnFamily(o);
  else await runLoadFamily(o);
  return true;
}
