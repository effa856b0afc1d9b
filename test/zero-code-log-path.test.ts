/*
 * A log path the file system cannot create never stops the application: with
 * OTEL_INSTRUMENTATION_MCP_LOG under /proc (where Node 20's recursive mkdir loops forever), a stdio
 * server under the zero-code preload answers at once, stdout carries only JSON-RPC, and stderr has
 * one line saying the log is off.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanEnv, echoCall, INITIALIZE, INITIALIZED, killChildren, startChild } from './helpers/child';
import { fixture, REPO_ROOT } from './helpers/sdk';

const REGISTER = join(REPO_ROOT, 'build', 'src', 'register.js');
const NOT_CREATABLE = '/proc/nonexistent/x.log';

describe('zero-code: a log path that cannot be created', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  after(killChildren);

  test(`${NOT_CREATABLE}: the server answers, stdout is JSON-RPC only, one diagnostic on stderr`, async () => {
    const child = startChild(
      ['--require', REGISTER, fixture('zero-code-exit-app.cjs')],
      cleanEnv({ APP_MODE: 'stdio', OTEL_INSTRUMENTATION_MCP_LOG: NOT_CREATABLE, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }),
    );
    child.send(INITIALIZE);
    const init = await child.response(0);
    assert.equal((init.result as { serverInfo: { name: string } }).serverInfo.name, 'zero-code-exit-server');
    child.send(INITIALIZED);
    child.send(echoCall(1, 'still here'));
    assert.deepEqual((await child.response(1)).result, { content: [{ type: 'text', text: 'still here' }] });
    child.process.stdin!.end();
    const exit = await child.exited(20_000);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, exit.stderr);
    assert.deepEqual(
      exit.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { jsonrpc: string; id: number }).id),
      [0, 1],
    );
    assert.deepEqual(exit.stderr.split('\n').filter((l) => l !== ''), [
      `opentelemetry-instrumentation-mcp/register: OTEL_INSTRUMENTATION_MCP_LOG: cannot write the JSON-line log to "${NOT_CREATABLE}"; the log is off: ENOENT: no such file or directory, mkdir '/proc/nonexistent'`,
    ]);
  });
});
