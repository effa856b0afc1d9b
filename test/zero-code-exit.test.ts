/*
 * The zero-code preload never keeps a finished application alive: with a collector that refuses
 * every connection (so each export retries) and metrics exported every 300 ms, a process whose
 * application is done — a stdio server whose host closed standard input, a script whose event loop
 * drained, a server ended by a signal — exits within the flush bound (3 s) plus start-up slack, with
 * the application's exit code or signal. An application that still has work (a listening HTTP
 * server) is never ended by it. Real child processes under `node --require …/register`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { cleanEnv, echoCall, INITIALIZE, INITIALIZED, killChildren, startChild, type RunningChild } from './helpers/child';
import { fixture, REPO_ROOT } from './helpers/sdk';

const REGISTER = join(REPO_ROOT, 'build', 'src', 'register.js');
const APP = fixture('zero-code-exit-app.cjs');
/** The register's flush bound (SHUTDOWN_TIMEOUT_MS) plus slack for a loaded machine: a correctness bound. */
const EXIT_BOUND_MS = 6_000;
/** How long the tests wait for an exit at all (a process the register holds open never exits). */
const WAIT_LIMIT_MS = 20_000;
/** Time for the exporters to be busy retrying before the application ends. */
const BUSY_MS = 1_000;

function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_INSTRUMENTATION_MCP_LOG: 'off',
    OTEL_SERVICE_NAME: 'zero-code-exit-test',
    ...extra,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the stdio server and has one session with it: initialize, then a tool call answered. */
async function stdioSession(extra: Record<string, string>): Promise<RunningChild> {
  const child = startChild(['--require', REGISTER, APP], appEnv({ APP_MODE: 'stdio', ...extra }));
  child.send(INITIALIZE);
  await child.response(0);
  child.send(INITIALIZED);
  child.send(echoCall(1, 'hi'));
  const answer = await child.response(1);
  assert.deepEqual(answer.result, { content: [{ type: 'text', text: 'hi' }] });
  await sleep(BUSY_MS);
  return child;
}

/** Standard output held only the server's JSON-RPC. */
function assertJsonRpcOnly(stdout: string): void {
  for (const line of stdout.split('\n').filter((l) => l !== '')) {
    assert.equal((JSON.parse(line) as { jsonrpc?: unknown }).jsonrpc, '2.0', `not JSON-RPC on stdout: ${line}`);
  }
}

async function exitDelay(child: RunningChild, end: () => void): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const started = Date.now();
  end();
  const exit = await child.exited(WAIT_LIMIT_MS);
  return { ms: Date.now() - started, code: exit.code, signal: exit.signal, stderr: exit.stderr };
}

describe('zero-code: a dead collector never keeps a finished application alive', () => {
  after(killChildren);

  const exporters: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'OTLP http/protobuf', env: {} },
    { name: 'OTLP grpc', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } },
    { name: 'zipkin', env: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:1/api/v2/spans' } },
  ];
  for (const exporter of exporters) {
    test(`${exporter.name}: the host closes a stdio server's standard input; it exits with the application's code`, async () => {
      const child = await stdioSession({ APP_EXIT_CODE: '3', ...exporter.env });
      const exit = await exitDelay(child, () => child.process.stdin!.end());
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 3, signal: null }, exit.stderr);
      assert.ok(exit.ms < EXIT_BOUND_MS, `exited ${exit.ms} ms after stdin closed; stderr: ${exit.stderr}`);
      assertJsonRpcOnly(child.stdout());
    });
  }

  test('beforeExit: a script whose event loop drains while exports retry exits with its code', async () => {
    const child = startChild(['--require', REGISTER, APP], appEnv({ APP_MODE: 'script', APP_LINGER_MS: String(BUSY_MS), APP_EXIT_CODE: '5' }));
    child.process.stdin!.end(); // the script reads nothing
    await child.stdoutMatch(/done\n/);
    const exit = await exitDelay(child, () => {});
    assert.equal(exit.code, 5, exit.stderr);
    assert.equal(exit.signal, null);
    assert.equal(child.stdout(), 'result: hi\ndone\n');
    assert.ok(exit.ms < EXIT_BOUND_MS, `exited ${exit.ms} ms after the script finished; stderr: ${exit.stderr}`);
  });

  test('SIGTERM, the application handling it (closing its server): it exits with its own code', async () => {
    const child = await stdioSession({ APP_SIGTERM: '1', APP_EXIT_CODE: '4' });
    const exit = await exitDelay(child, () => child.process.kill('SIGTERM'));
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 4, signal: null }, exit.stderr);
    assert.ok(exit.ms < EXIT_BOUND_MS, `exited ${exit.ms} ms after SIGTERM; stderr: ${exit.stderr}`);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}, no handler of the application's: the process ends by the signal`, async () => {
      const child = await stdioSession({});
      const exit = await exitDelay(child, () => child.process.kill(signal));
      assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: null, signal }, exit.stderr);
      assert.ok(exit.ms < EXIT_BOUND_MS, `exited ${exit.ms} ms after ${signal}; stderr: ${exit.stderr}`);
    });
  }

  test('control: an application still listening on HTTP is not ended when standard input closes', async () => {
    const child = await stdioSession({ APP_MODE: 'listen' });
    const port = Number((await child.stderrMatch(/listening (\d+)/))[1]);
    child.process.stdin!.end();
    // Past the flush bound: a register that ended the process on stdin's end would have by now.
    await sleep(EXIT_BOUND_MS);
    const body = await new Promise<string>((resolve, reject) => {
      get(`http://127.0.0.1:${port}/`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'alive');
    assert.equal(child.process.exitCode, null);
    assert.equal(child.process.signalCode, null);
    child.process.kill('SIGKILL');
    await child.exited(WAIT_LIMIT_MS);
  });
});
