/*
 * Zero-code loading: an application with no OpenTelemetry code at all, started under
 * `node --require …/register` (CommonJS) or `node --import …/register` (ESM), by file path and by the
 * package name, exporting OTLP/HTTP JSON to a loopback receiver this test runs. Nothing is
 * instrumented in this process: everything observed comes from the child's exporter.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver as startReceiver, type OtlpReceiver as Receiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { childEnv, fileUrl, fixture, REPO_ROOT } from './helpers/sdk';

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const SCOPE = 'opentelemetry-instrumentation-mcp';
const SERVICE_NAME = 'zero-code-test';
/** The one line the fixture apps print. */
const APP_STDOUT = 'result: hi\n';
/** Upper bound for one app run; an unreachable collector costs the exporter's retries (several seconds). */
const RUN_TIMEOUT_MS = 45_000;
/** `SHUTDOWN_TIMEOUT_MS` of src/zero-code/shutdown.ts: the longest the register means to delay the exit. */
const REGISTER_SHUTDOWN_CAP_MS = 3_000;

interface AppRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the app's stdout line to the process's exit. */
  exitDelayMs: number | undefined;
}

/** The environment of an app run: inherited, minus any OTEL_* or NODE_OPTIONS of the caller's shell. */
function appEnv(otel: Record<string, string>): NodeJS.ProcessEnv {
  const env = childEnv();
  for (const key of Object.keys(env)) {
    if (key.startsWith('OTEL_') || key === 'NODE_OPTIONS') delete env[key];
  }
  return {
    ...env,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_SERVICE_NAME: SERVICE_NAME,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    ...otel,
  };
}

const children = new Set<ReturnType<typeof spawn>>();

function runApp(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let printedAt: number | undefined;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      printedAt ??= Date.now();
    });
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not exit within ${RUN_TIMEOUT_MS} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, exitDelayMs: printedAt === undefined ? undefined : Date.now() - printedAt });
    });
  });
}

function assertAppUnharmed(run: AppRun): void {
  assert.equal(run.stdout, APP_STDOUT, `stdout is the app's own; stderr: ${run.stderr}`);
  assert.equal(run.signal, null, `stderr: ${run.stderr}`);
  assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`);
}

/** The app's MCP spans as received: exact names and kinds, resource, scope and parent links. */
function assertAppSpans(receiver: Receiver, run: AppRun): void {
  assert.deepEqual(
    { metrics: receiver.metricBodies.length, logs: receiver.logBodies.length, other: receiver.otherPaths },
    { metrics: 0, logs: 0, other: [] },
    'only traces are exported',
  );
  const spans = receiver.spans();
  assert.deepEqual(
    spans.map((s) => `${s.kind} ${s.name}`).sort(),
    [
      'CLIENT initialize',
      'CLIENT notifications/initialized',
      'CLIENT tools/call echo',
      'SERVER initialize',
      'SERVER notifications/initialized',
      'SERVER tools/call echo',
    ],
    `spans received; stderr: ${run.stderr}`,
  );
  assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'each span exported once');
  for (const span of spans) {
    assert.equal(span.scope, SCOPE, span.name);
    assert.equal(span.scopeVersion, PACKAGE.version, span.name);
    assert.equal(span.resource['service.name'], SERVICE_NAME, span.name);
    assert.equal(span.attributes['mcp.method.name'], span.name.split(' ')[0], span.name);
  }
  const find = (kind: string, name: string): ReceivedSpan => spans.find((s) => s.kind === kind && s.name === name)!;
  for (const name of ['initialize', 'notifications/initialized', 'tools/call echo']) {
    const client = find('CLIENT', name);
    const server = find('SERVER', name);
    assert.equal(server.parentSpanId, client.spanId, `${name}: SERVER span is the child of the CLIENT span`);
    assert.equal(server.traceId, client.traceId, name);
    assert.equal(client.parentSpanId, undefined, `${name}: the CLIENT span is a root (the app has no span of its own)`);
  }
  const call = find('SERVER', 'tools/call echo');
  assert.equal(call.attributes['gen_ai.tool.name'], 'echo');
  assert.equal(call.attributes['gen_ai.operation.name'], 'execute_tool');
  assert.equal(call.attributes['mcp.client.name'], 'zero-code-client');
  assert.equal(find('CLIENT', 'tools/call echo').attributes['mcp.server.name'], 'zero-code-server');
}

const REGISTER_CJS = join(REPO_ROOT, 'build', 'src', 'register.js');
const REGISTER_MJS = fileUrl(join(REPO_ROOT, 'build', 'src', 'register.mjs'));
const APP_CJS = fixture('zero-code-app.cjs');
const APP_MJS = fixture('zero-code-app.mjs');

/** How each way of starting the app is spelt, by file and by package name. */
interface Start {
  name: string;
  args: string[];
  /** Run from the directory where the package name resolves. */
  byPackageName: boolean;
}

const STARTS: Start[] = [
  { name: 'CommonJS, --require <file>', args: ['--require', REGISTER_CJS, APP_CJS], byPackageName: false },
  { name: 'ESM, --import <file URL>', args: ['--import', REGISTER_MJS, APP_MJS], byPackageName: false },
  { name: `CommonJS, --require ${PACKAGE.name}/register`, args: ['--require', `${PACKAGE.name}/register`, APP_CJS], byPackageName: true },
  { name: `ESM, --import ${PACKAGE.name}/register`, args: ['--import', `${PACKAGE.name}/register`, APP_MJS], byPackageName: true },
];

describe('zero-code register', { concurrency: true }, () => {
  /** A directory whose node_modules holds this package (a symlink to the repository), as after `npm install`. */
  let installDir: string;

  before(() => {
    installDir = mkdtempSync(join(tmpdir(), 'zero-code-'));
    mkdirSync(join(installDir, 'node_modules'));
    symlinkSync(REPO_ROOT, join(installDir, 'node_modules', PACKAGE.name), process.platform === 'win32' ? 'junction' : 'dir');
  });

  after(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(installDir, { recursive: true, force: true });
  });

  test('the fixture apps print their line and exit 0 without any register (baseline)', async () => {
    for (const app of [APP_CJS, APP_MJS]) {
      const run = await runApp([app], { env: appEnv({}) });
      assertAppUnharmed(run);
    }
  });

  for (const start of STARTS) {
    test(`${start.name}: the app's MCP spans reach the OTLP endpoint; stdout and exit code are the app's`, async () => {
      const receiver = await startReceiver();
      try {
        const run = await runApp(start.args, {
          cwd: start.byPackageName ? installDir : REPO_ROOT,
          env: appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }),
        });
        assertAppUnharmed(run);
        assertAppSpans(receiver, run);
      } finally {
        await receiver.close();
      }
    });
  }

  test('the package name does not resolve from the repository’s parent: the package-name runs really use the install dir', async () => {
    // Guards the test above: without the symlinked install, `--require <name>/register` must fail.
    const bare = mkdtempSync(join(tmpdir(), 'zero-code-bare-'));
    try {
      const run = await runApp(['--require', `${PACKAGE.name}/register`, APP_CJS], { cwd: bare, env: appEnv({}) });
      assert.notEqual(run.code, 0);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /Cannot find module/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  describe('misconfiguration never breaks the app', { concurrency: true }, () => {
    // One run of the CommonJS app against an unreachable collector, shared by the two tests below.
    let unreachableCjs: Promise<AppRun> | undefined;
    const runUnreachableCjs = (): Promise<AppRun> =>
      (unreachableCjs ??= runApp(['--require', REGISTER_CJS, APP_CJS], { env: appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }) }));

    test('unreachable endpoint (http://127.0.0.1:1), CommonJS: same stdout, exit 0', async () => {
      const run = await runUnreachableCjs();
      assertAppUnharmed(run);
      assert.doesNotMatch(run.stdout, /opentelemetry|ECONNREFUSED/);
    });

    test('unreachable endpoint (http://127.0.0.1:1), ESM: same stdout, exit 0', async () => {
      const run = await runApp(['--import', REGISTER_MJS, APP_MJS], { env: appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }) });
      assertAppUnharmed(run);
    });

    test('endpoint that is not an OTLP receiver (answers 404): same stdout, exit 0', async () => {
      const receiver = await startReceiver({ status: 404 });
      try {
        const run = await runApp(['--require', REGISTER_CJS, APP_CJS], { env: appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }) });
        assertAppUnharmed(run);
      } finally {
        await receiver.close();
      }
    });

    test('unknown exporter name (OTEL_TRACES_EXPORTER=no-such-exporter): same stdout, exit 0', async () => {
      const run = await runApp(['--require', REGISTER_CJS, APP_CJS], { env: appEnv({ OTEL_TRACES_EXPORTER: 'no-such-exporter' }) });
      assertAppUnharmed(run);
    });

    test('unreachable endpoint: the exit is delayed no longer than the register’s own shutdown cap', async () => {
        // An export in flight when the application ends keeps the event loop busy for as long as the
        // exporter retries (its own timeout, OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default); only then
        // does the process reach its exit, where the preload's flush may add at most its cap.
        const exporterTimeoutMs = 1_000;
        const run = await runApp(['--require', REGISTER_CJS, APP_CJS], {
          env: appEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_EXPORTER_OTLP_TIMEOUT: String(exporterTimeoutMs) }),
        });
        assertAppUnharmed(run);
        assert.ok(run.exitDelayMs !== undefined);
        // A bound, not a measurement: the exporter's timeout, the cap, and two seconds of process teardown.
        const bound = exporterTimeoutMs + REGISTER_SHUTDOWN_CAP_MS + 2_000;
        assert.ok(run.exitDelayMs <= bound, `exited ${run.exitDelayMs} ms after the app's last output (bound ${bound} ms)`);
    });
  });
});
