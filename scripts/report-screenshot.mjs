#!/usr/bin/env node
// Writes docs/report.png: the HTML report of a small, realistic workload, as a browser shows it.
//
//   npm run build && node scripts/report-screenshot.mjs
//
// A weather server and its client run in memory (instrumented, with the JSON-line log), calling their
// tools a few hundred times with backend-like latencies and failures; `mcp-otel report` turns the log
// into a page; headless Chromium (Debian's `chromium`, driven by playwright-core) takes its picture.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const work = mkdtempSync(path.join(tmpdir(), 'mcp-report-shot-'));

const { trace, context } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { McpInstrumentation } = require(path.join(root, 'build', 'src', 'index.js'));
const { JsonLogSpanProcessor } = require(path.join(root, 'build', 'src', 'json-log', 'index.js'));

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const log = new JsonLogSpanProcessor({ destination: path.join(work, 'mcp.log') });
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [log] }));
new McpInstrumentation();

const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { InMemoryTransport } = require('@modelcontextprotocol/sdk/inMemory.js');
const { z } = require('zod');

// A deterministic pseudo-random sequence, so that the picture is the same from run to run.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = new McpServer({ name: 'weather-server', version: '1.0.0' });
server.tool('forecast', 'Forecast for a city', { city: z.string() }, async ({ city }) => {
  await sleep(8 + random() * 30);
  if (city === 'Atlantis') return { isError: true, content: [{ type: 'text', text: `no forecast for ${city}` }] };
  return { content: [{ type: 'text', text: `${city}: sunny` }] };
});
server.tool('search_stations', 'Stations near a place', { near: z.string() }, async () => {
  await sleep(3 + random() * (random() < 0.1 ? 120 : 12));
  return { content: [{ type: 'text', text: 'OSL-1, OSL-2' }] };
});
server.tool('alerts', 'Weather alerts from the upstream service', {}, async () => {
  await sleep(2 + random() * 6);
  if (random() < 0.3) throw new Error('upstream alert service unavailable');
  return { content: [{ type: 'text', text: 'none' }] };
});
server.tool('history', 'Past observations', { days: z.number() }, async ({ days }) => {
  await sleep(20 + days * random() * 8);
  return { content: [{ type: 'text', text: `${days} days` }] };
});

const client = new Client({ name: 'trip-planner', version: '2.0.0' });
const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
await server.connect(serverTransport);
await client.connect(clientTransport);
await client.listTools();
const cities = ['Paris', 'Oslo', 'Lima', 'Atlantis', 'Kyoto'];
for (let i = 0; i < 240; i++) {
  const pick = random();
  const call =
    pick < 0.45 ? { name: 'forecast', arguments: { city: cities[Math.floor(random() * cities.length)] } }
      : pick < 0.7 ? { name: 'search_stations', arguments: { near: 'Oslo' } }
        : pick < 0.88 ? { name: 'alerts', arguments: {} }
          : { name: 'history', arguments: { days: 1 + Math.floor(random() * 7) } };
  try {
    await client.callTool(call);
  } catch {
    // failures are part of the picture
  }
  await sleep(random() * 15);
}
await client.close();
await log.forceFlush();
await log.shutdown();

// The report, written from the log's folder so that the page names the file as `mcp.log`.
execFileSync(process.execPath, [path.join(root, 'build', 'src', 'cli', 'main.js'), 'report', 'mcp.log', '-o', 'report.html'], { cwd: work, stdio: 'inherit' });

const { chromium } = require('playwright-core');
const browser = await chromium.launchPersistentContext(path.join(work, 'profile'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1100, height: 900 },
});
try {
  const page = await browser.newPage();
  await page.goto(`file://${path.join(work, 'report.html')}`);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(root, 'docs', 'report.png'), fullPage: true });
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
console.error('report-screenshot: wrote docs/report.png');
