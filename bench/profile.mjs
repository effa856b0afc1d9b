#!/usr/bin/env node
/*
 * CPU profile of one configuration and workload (default: tracing+metrics, in-memory, sequential,
 * trivial tool), then the top self-time frames, ours (build/src) first.
 *   node bench/profile.mjs [--config tracing+metrics] [--transport memory] [--tool noop]
 *                          [--concurrency 1] [--ms 4000] [--top 25] [--side client|server] [--interval µs]
 * `--side server` profiles the stdio server child instead of the worker (implies --transport stdio).
 * `--http <sessions>` profiles the Streamable HTTP server process (1.x, stateful) under that many
 * sessions calling back to back (`--stateless` for v2 createMcpHandler); the load process is not profiled.
 * `--against <config>` also profiles that configuration (first) and compares the two: self time per
 * frame in units of the time spent in zod, which is the SDK's own validation and the same work per
 * call in every configuration (zod = 100). On a machine whose speed drifts, this resolves differences
 * that calls/s and CPU per call, measured at different moments, do not.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
// Our frames: the build the workers load (BENCH_BUILD_DIR or build/src), relative to the repository.
const OURS = path.relative(ROOT, createRequire(import.meta.url)('./configs.cjs').BUILD).split(path.sep).join('/') + '/';
const isOurs = (k) => k.includes(`  ${OURS}`);
const argv = process.argv.slice(2);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const config = value('--config', 'tracing+metrics');
const ms = Number(value('--ms', 4000));
const top = Number(value('--top', 25));
const side = value('--side', 'client');
// Sampling interval in µs (V8's default is 1000; 100 gives line-level detail for short functions).
const interval = Number(value('--interval', 1000));
const workload = { transport: side === 'server' ? 'stdio' : value('--transport', 'memory'), tool: value('--tool', 'noop'), concurrency: Number(value('--concurrency', 1)) };
const httpSessions = value('--http', undefined);
const httpMode = argv.includes('--stateless') ? 'stateless' : 'stateful';
if (httpSessions !== undefined) Object.assign(workload, { transport: `http-${httpMode}`, concurrency: Number(httpSessions) });
const against = value('--against', undefined);
const workDir = path.join(HERE, '.work');
const profDir = path.join(workDir, 'prof');
fs.rmSync(profDir, { recursive: true, force: true });
fs.mkdirSync(profDir, { recursive: true });

/** Runs one worker of `name` under the profiler; returns its profile and where it was written. */
async function profileOf(name) {
  const dir = path.join(profDir, name.replace(/[^A-Za-z0-9.+-]/g, '_'));
  fs.mkdirSync(dir, { recursive: true });
  const profArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${interval}`];
  const http = httpSessions !== undefined;
  const spec = http
    ? { family: 'load', mode: httpMode, config: name, workDir, sinkUrl: 'http://127.0.0.1:9/v1', sessions: [workload.concurrency], tool: workload.tool, warmupMs: 1000, measureMs: ms }
    : { config: name, workDir, sinkUrl: 'http://127.0.0.1:9/v1', warmupMs: 1000, measureMs: ms, heap: false, workloads: [workload] };
  const serverSide = side === 'server' || http;
  await new Promise((resolve, reject) => {
    const child = fork(path.join(HERE, http ? 'http-worker.cjs' : 'worker.cjs'), [], {
      cwd: ROOT,
      execArgv: ['--expose-gc', '--no-warnings', ...(serverSide ? [] : profArgs)],
      env: {
        ...process.env,
        BENCH_SPEC: JSON.stringify(spec),
        ...(serverSide ? { BENCH_SERVER_NODE_ARGS: profArgs.join(' ') } : {}),
      },
    });
    child.on('message', (m) => {
      if (m.type === 'result') {
        const r = m.result.results[0];
        const cpu = r.serverCpuUsPerCall !== undefined ? `, server CPU ${r.serverCpuUsPerCall.toFixed(0)} µs/call` : '';
        console.log(`${name} ${workload.transport}/${workload.tool}/c${workload.concurrency}: ${r.callsPerSec.toFixed(0)} calls/s while profiled${cpu}`);
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
  });
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return { profile: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), file: path.join(dir, file) };
}

/** Self time (µs) per frame, keyed `function  file:line`. */
function selfTimes(profile) {
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + (profile.timeDeltas[i] || 0));
  const times = new Map();
  for (const node of profile.nodes) {
    const cf = node.callFrame;
    const url = cf.url.replace(`file://${ROOT}/`, '');
    const key = `${cf.functionName || '(anonymous)'}  ${url}:${cf.lineNumber + 1}`;
    times.set(key, (times.get(key) || 0) + (dt.get(node.id) || 0));
  }
  return times;
}

if (against !== undefined) {
  // Both in units of their own zod time; idle is not work.
  const units = (times) => {
    let zod = 0;
    for (const [k, t] of times) if (k.includes('node_modules/zod/')) zod += t;
    const out = new Map();
    for (const [k, t] of times) if (!k.startsWith('(idle)')) out.set(k, (100 * t) / zod);
    return out;
  };
  const base = units(selfTimes((await profileOf(against)).profile));
  const other = units(selfTimes((await profileOf(config)).profile));
  const sum = (m) => [...m.values()].reduce((x, y) => x + y, 0);
  console.log(`\n${config} against ${against}, self time in units of zod time (zod = 100)`);
  console.log(`  total: ${against} ${sum(base).toFixed(0)}, ${config} ${sum(other).toFixed(0)}, ratio ${(sum(other) / sum(base)).toFixed(3)}`);
  const keys = new Set([...base.keys(), ...other.keys()]);
  const rows = [...keys].map((k) => [k, (other.get(k) || 0) - (base.get(k) || 0)]).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  console.log(`  largest differences (${config} − ${against}):`);
  for (const [k, d] of rows.slice(0, top)) console.log(`  ${(d >= 0 ? '+' : '-') + Math.abs(d).toFixed(2).padStart(6)}  ${k}`);
  process.exit(0);
}

const { profile, file } = await profileOf(config);
const self = selfTimes(profile);
let total = 0;
for (const t of self.values()) total += t;
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]);
const show = (title, filter) => {
  console.log(`\n${title}`);
  let sum = 0;
  for (const [k, t] of rows.filter(([k]) => filter(k))) sum += t;
  console.log(`  (${((100 * sum) / total).toFixed(1)}% of all samples)`);
  for (const [k, t] of rows.filter(([k]) => filter(k)).slice(0, top)) console.log(`  ${((100 * t) / total).toFixed(2).padStart(6)}%  ${k}`);
};
show(`top self time, our code (${OURS})`, isOurs);
show('top self time, everything', () => true);
const byPackage = new Map();
for (const [k, t] of rows) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(k);
  const p = m ? m[1] : isOurs(k) ? 'ours' : k.includes('node:') ? 'node internals' : '(other: GC, program, idle, natives)';
  byPackage.set(p, (byPackage.get(p) || 0) + t);
}
console.log('\nself time by package');
for (const [p, t] of [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${((100 * t) / total).toFixed(1).padStart(6)}%  ${p}`);
console.log(`\nprofile: ${path.relative(ROOT, file)}`);
