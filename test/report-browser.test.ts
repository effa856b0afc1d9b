/*
 * `mcp-otel report`, proven in a real browser: a real instrumented MCP server and client (in memory)
 * write a JSON-line log through JsonLogSpanProcessor, the CLI turns it into a page, and headless
 * Chromium (Debian's `chromium`, driven by playwright-core) opens it over file://: the Chart.js charts
 * exist with the workload's figures, the page shows the tool names and counts, it makes no network
 * request and logs no error, and a tool named like markup is shown as text, never run.
 *
 * Needs /usr/bin/chromium (Debian package `chromium`; .ci/run installs it): in CI its absence fails
 * the suite, elsewhere it skips. (docs/report.png is made by scripts/report-screenshot.mjs.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation } from '../src';
import { JsonLogSpanProcessor } from '../src/json-log';
import { mcpSdk } from './helpers/mcp';
import { setupOtel } from './helpers/otel';
import { REPO_ROOT } from './helpers/sdk';

const CHROMIUM = '/usr/bin/chromium';
const CLI = path.join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
const XSS_TOOL = '<img src=x onerror="window.__xss=1">';
const MISSING = fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run installs it)`;

setupOtel();
const instrumentation = new McpInstrumentation();

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
// The page's globals, inside page.evaluate (the suite compiles without the DOM library).
declare const window: Any;
declare const document: Any;

describe('mcp-otel report in headless Chromium', { skip: process.env.CI ? false : MISSING }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-report-browser-'));
  const log = path.join(tmp, 'ops.log');
  const html = path.join(tmp, 'report.html');
  let context: Any;
  let page: Any;
  const requests: string[] = [];
  const problems: string[] = [];

  before(async () => {
    assert.ok(MISSING === false, `the browser test needs Chromium: ${MISSING}`);
    // The workload: known calls of three tools, one of them failing, one named like markup.
    const processor = new JsonLogSpanProcessor({ destination: log });
    const provider = new sdkTrace.TracerProvider({ spanProcessors: [processor] });
    instrumentation.setTracerProvider(provider);
    const mcp = mcpSdk();
    const server = new mcp.McpServer({ name: 'report-server', version: '1.0.0' });
    mcp.tool(server, 'add', 'Adds', { a: mcp.z.number(), b: mcp.z.number() }, async ({ a, b }: Any) => ({
      content: [{ type: 'text', text: String(a + b) }],
    }));
    mcp.tool(server, 'divide', 'Divides', { a: mcp.z.number(), b: mcp.z.number() }, async ({ a, b }: Any) =>
      b === 0 ? { isError: true, content: [{ type: 'text', text: 'division by zero' }] } : { content: [{ type: 'text', text: String(a / b) }] },
    );
    mcp.tool(server, XSS_TOOL, 'A peer-chosen name', {}, async () => ({ content: [{ type: 'text', text: 'hi' }] }));
    const client = new mcp.Client({ name: 'report-client', version: '1.0.0' });
    const [clientTransport, serverTransport] = mcp.InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    for (let i = 0; i < 5; i++) await mcp.callTool(client, { name: 'add', arguments: { a: i, b: 1 } });
    for (let i = 0; i < 3; i++) await mcp.callTool(client, { name: 'divide', arguments: { a: i, b: 0 } });
    for (let i = 0; i < 2; i++) await mcp.callTool(client, { name: XSS_TOOL, arguments: {} });
    await client.close();
    await server.close();
    await provider.shutdown();

    const r = spawnSync(process.execPath, [CLI, 'report', log, '-o', html], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as Any;
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1200, height: 900 },
      timeout: 60_000,
    });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('request', (request: Any) => requests.push(request.url()));
    page.on('console', (message: Any) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error: Error) => problems.push(`page error: ${error.message}`));
    await page.goto(`file://${html}`, { waitUntil: 'load' });
  });

  after(async () => {
    await context?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the charts exist, drawn by Chart.js with the workload\'s figures', async () => {
    const charts = await page.evaluate(() => {
      const w = window as Any;
      return [...document.querySelectorAll('canvas')].map((canvas: Any) => {
        const chart = w.Chart.getChart(canvas);
        return {
          id: canvas.id,
          drawn: canvas.width > 0 && canvas.height > 0,
          labels: chart?.data.labels,
          datasets: chart?.data.datasets.map((d: Any) => [d.label, d.data]),
        };
      });
    });
    assert.deepEqual(charts.map((c: Any) => [c.id, c.drawn]), [
      ['chart-outcomes-server', true],
      ['chart-outcomes-client', true],
      ['chart-latency', true],
      ['chart-time', true],
    ]);
    for (const side of [0, 1]) {
      // Sorted by name: '<' before letters.
      assert.deepEqual(charts[side].labels, [XSS_TOOL, 'add', 'divide']);
      assert.deepEqual(charts[side].datasets, [
        ['ok', [2, 5, 0]],
        ['tool_error', [0, 0, 3]],
      ]);
    }
    assert.deepEqual(charts[2].labels, [`client · ${XSS_TOOL}`, 'client · add', 'client · divide', `server · ${XSS_TOOL}`, 'server · add', 'server · divide']);
    assert.deepEqual(charts[2].datasets.map((d: Any) => d[0]), ['p50', 'p95', 'p99', 'max']);
    // Over time, summed over the buckets: every operation of the log (tools/call, initialize and
    // notifications/initialized on each side), the six failed calls.
    const totals = Object.fromEntries(charts[3].datasets.map((d: Any) => [d[0], d[1].reduce((a: number, b: number) => a + b, 0)]));
    assert.deepEqual(totals, { 'server ok': 9, 'server errors': 3, 'client ok': 9, 'client errors': 3 });
  });

  test('the page shows the tool names and counts as text', async () => {
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll('#outcomes tbody tr')].map((tr: Any) => [...tr.querySelectorAll('td')].map((td: Any) => td.textContent)),
    );
    assert.deepEqual(rows, [
      ['server', XSS_TOOL, '2', '2', '-'],
      ['server', 'add', '5', '5', '-'],
      ['server', 'divide', '3', '0', 'tool_error 3'],
      ['client', XSS_TOOL, '2', '2', '-'],
      ['client', 'add', '5', '5', '-'],
      ['client', 'divide', '3', '0', 'tool_error 3'],
    ]);
    const errors = await page.evaluate(() => [...document.querySelectorAll('#errors tbody tr')].map((tr: Any) => tr.textContent));
    assert.deepEqual(errors, ['clienttools/calldividetool_error3', 'servertools/calldividetool_error3']);
    assert.match(await page.textContent('#lines'), /skipped 0 malformed and 0 foreign/);
    assert.equal(await page.locator('#slowest tbody tr').count(), 20);
  });

  test('a tool named like markup is text: no element made, no script run', async () => {
    const state = await page.evaluate(() => ({
      xss: (window as Any).__xss,
      images: document.querySelectorAll('img').length,
      cells: [...document.querySelectorAll('td code')].filter((c: Any) => c.textContent === '<img src=x onerror="window.__xss=1">').length,
    }));
    // Named in the outcomes table (2), the latency table (2) and the slowest operations (some).
    assert.deepEqual({ xss: state.xss, images: state.images }, { xss: undefined, images: 0 });
    assert.ok(state.cells >= 4, `the name shown as text in ${state.cells} cells`);
  });

  test('no network request but the page itself, no console error', async () => {
    assert.deepEqual(requests, [`file://${html}`]);
    assert.deepEqual(problems, []);
  });

  test('a picture of the page', async () => {
    const target = path.join(tmp, 'report.png');
    await page.screenshot({ path: target, fullPage: true });
    assert.ok(fs.statSync(target).size > 10_000);
  });
});
