#!/usr/bin/env node
/*
 * CPU profile of one configuration and workload (default: tracing+metrics, in-memory, sequential,
 * trivial tool), then the top self-time frames, ours (build/src) first.
 *   node bench/profile.mjs [--config tracing+metrics] [--transport memory] [--tool noop]
 *                          [--concurrency 1] [--ms 4000] [--top 25] [--side client|server] [--interval µs]
 * `--side server` profiles the stdio server child instead of the worker (implies --transport stdio).
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
const workDir = path.join(HERE, '.work');
const profDir = path.join(workDir, 'prof');
fs.rmSync(profDir, { recursive: true, force: true });
fs.mkdirSync(profDir, { recursive: true });
const profArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${interval}`];

const spec = { config, workDir, sinkUrl: 'http://127.0.0.1:9/v1', warmupMs: 1000, measureMs: ms, heap: false, workloads: [workload] };
await new Promise((resolve, reject) => {
  const child = fork(path.join(HERE, 'worker.cjs'), [], {
    cwd: ROOT,
    execArgv: ['--expose-gc', '--no-warnings', ...(side === 'server' ? [] : profArgs)],
    env: {
      ...process.env,
      BENCH_SPEC: JSON.stringify(spec),
      ...(side === 'server' ? { BENCH_SERVER_NODE_ARGS: profArgs.join(' ') } : {}),
    },
  });
  child.on('message', (m) => {
    if (m.type === 'result') console.log(`${config} ${workload.transport}/${workload.tool}/c${workload.concurrency}: ${m.result.results[0].callsPerSec.toFixed(0)} calls/s while profiled`);
  });
  child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
});

const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
const profile = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8'));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + (profile.timeDeltas[i] || 0));
const self = new Map();
let total = 0;
for (const node of profile.nodes) {
  const t = dt.get(node.id) || 0;
  total += t;
  const cf = node.callFrame;
  const url = cf.url.replace(`file://${ROOT}/`, '');
  const key = `${cf.functionName || '(anonymous)'}  ${url}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) || 0) + t);
}
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
console.log(`\nprofile: ${path.relative(ROOT, path.join(profDir, file))}`);
