#!/usr/bin/env node
// What content capture costs per call: `serializeContent` on large and typical values, timed in
// one process (a benchmark, not a test: it prints a table and never fails on a number).
//
//   npm run build && node bench/content-capture.mjs [--module <dir>] [--ms 400] [--rounds 5]
//
// --module loads the serializer from another build (a directory holding the compiled content
// module, e.g. a copy of build/src made before a change), to compare before and after.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const moduleDir = path.resolve(option('--module', path.join(root, 'build', 'src')));
const measureMs = Number(option('--ms', '400'));
const rounds = Number(option('--rounds', '5'));
const require = createRequire(import.meta.url);
const { serializeContent, createKeyRedactor } = require(path.join(moduleDir, 'content'));

const redact = createKeyRedactor(['internalId']);
const MB5 = 5 * 1024 * 1024;
const plain5mb = 'x'.repeat(MB5);
const escaped5mb = 'line "one"\twith\\escapes\n'.repeat(MB5 / 25);
const text10kb = 'lorem ipsum dolor sit amet '.repeat(380);
const workloads = [
  ['5 MB text result, cap 4096', { content: [{ type: 'text', text: plain5mb }] }, 4096],
  ['5 MB text with escapes, cap 4096', { content: [{ type: 'text', text: escaped5mb }] }, 4096],
  ['5 MB top-level string, cap 4096', plain5mb, 4096],
  ['10 kB text result, cap 4096', { content: [{ type: 'text', text: text10kb }] }, 4096],
  ['small arguments', { city: 'Paris', units: 'metric', days: 3, password: 'hunter2', note: 'bring an umbrella tomorrow' }, 4096],
  [
    'result with secrets by value',
    { content: [{ type: 'text', text: `curl -H "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0" https://api.example.com (key AKIAIOSFODNN7EXAMPLE)` }] },
    4096,
  ],
  ['5 MB of "eyJ" (JWT near misses), cap 4096', { text: 'eyJ'.repeat(MB5 / 3) }, 4096],
  ['5 MB of "Bearer x " near misses, cap 4096', { text: 'Bearer x '.repeat(MB5 / 9) }, 4096],
  ['5 MB base64url run after a JWT header, cap 4096', { text: `eyJhbGciOiJIUzI1NiJ9.eyJ${'A'.repeat(MB5)}` }, 4096],
  ['1000-element array, cap 4096', Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })), 4096],
];

function timeOne(value, cap) {
  let calls = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(measureMs) * 1_000_000n;
  let now = start;
  do {
    sink += serializeContent(value, cap, redact).length;
    calls += 1;
    now = process.hrtime.bigint();
  } while (now < deadline);
  if (sink < 0) console.error(sink);
  return Number(now - start) / 1000 / calls; // µs per call
}

const rows = [];
for (const [name, value, cap] of workloads) {
  timeOne(value, cap); // warm up
  const samples = [];
  for (let r = 0; r < rounds; r++) samples.push(timeOne(value, cap));
  samples.sort((a, b) => a - b);
  rows.push({ workload: name, 'µs/call (median)': Number(samples[rounds >> 1].toFixed(2)), 'min': Number(samples[0].toFixed(2)) });
}
console.log(`content-capture: ${path.relative(root, moduleDir) || '.'}, node ${process.version}, ${rounds} rounds × ${measureMs} ms`);
console.table(rows);
