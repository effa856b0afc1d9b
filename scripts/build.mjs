#!/usr/bin/env node
// Clean build: remove build/ and compile with the repo's own TypeScript.
//
//   node scripts/build.mjs [extra tsc args...]
//
// Exits with tsc's exit code (non-zero on any type or emit error).
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

if (!existsSync(tsc)) {
  console.error('build: TypeScript not found in node_modules; run `npm ci` first');
  process.exit(1);
}

const started = Date.now();
rmSync(outDir, { recursive: true, force: true });

const result = spawnSync(
  process.execPath,
  [tsc, '-p', path.join(root, 'tsconfig.json'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);

if (result.error) {
  console.error(`build: failed to start tsc: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  const why = result.signal ? `signal ${result.signal}` : `exit code ${result.status}`;
  console.error(`build: tsc failed (${why})`);
  process.exit(result.status || 1);
}
console.error(`build: ok (${((Date.now() - started) / 1000).toFixed(1)}s, node ${process.version})`);
