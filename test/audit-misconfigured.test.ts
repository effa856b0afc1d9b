/*
 * A misconfigured audit directory never stops the application: a path the file system cannot create
 * (under /proc, where Node 20's recursive mkdir loops forever) fails the sink with a diagnostic, and
 * the failure policy decides — real child processes, each bounded by a timeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppendOnlyFileSink } from '../src/audit';
import { safeMkdir } from '../src/safe-mkdir';
import { auditServers } from './helpers/audit';
import { childEnv, fixture, REPO_ROOT } from './helpers/sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
const UNCREATABLE = '/proc/nonexistent/x';
const onProcfs = existsSync('/proc/self');
const servers = auditServers();

/** The audited stdio server on `directory`, with a client whose `initialize` must be answered within 20 s. */
function startServer(directory: string, policy: 'continue' | 'reject'): { client: any; connected: Promise<void>; stderr: () => string } {
  const { client, connected, stderr } = servers.start({ AUDIT_DIR: directory, AUDIT_POLICY: policy }, { timeout: 20_000 });
  return { client, connected, stderr: () => stderr.join('') };
}

describe('an audit directory the file system cannot create', { skip: !onProcfs && 'no /proc here' }, () => {
  test('policy continue: initialize and a tool call are answered; the sink fails with a diagnostic', async () => {
    const s = startServer(UNCREATABLE, 'continue');
    await s.connected;
    const result = await s.client.callTool({ name: 'note', arguments: { text: 'a' } }, undefined, { timeout: 20_000 });
    assert.equal(result.content[0].text, 'noted a');
    await s.client.close();
    assert.match(
      s.stderr(),
      /diag error: opentelemetry-instrumentation-mcp\/audit cannot write the audit trail in \/proc\/nonexistent\/x \(ENOENT: no such file or directory, mkdir '\/proc\/nonexistent'\)/,
    );
  });

  test('policy reject: audited requests are refused with its error, at once', async () => {
    const s = startServer(UNCREATABLE, 'reject');
    // `initialize` is audited: refused, not left unanswered.
    await assert.rejects(s.connected, (error: any) => error?.code === -32603 && /The audit trail cannot be written; the request is refused/.test(error.message));
    await s.client.close();
  });

  test('zero-code (OTEL_INSTRUMENTATION_MCP_AUDIT_DIR): the application runs, one line on stderr says why there is no trail', () => {
    const env = childEnv({
      OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: UNCREATABLE,
      OTEL_INSTRUMENTATION_MCP_LOG: 'off',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--require', join(REPO_ROOT, 'build', 'src', 'register.js'), fixture('zero-code-app.cjs')], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.error, undefined, 'finished before the timeout');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'result: hi\n');
    assert.match(
      child.stderr,
      /^opentelemetry-instrumentation-mcp\/register: OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: cannot write the audit trail in \/proc\/nonexistent\/x; records are kept in memory and written once it can be written: ENOENT: /m,
    );
  });

  test('the sink itself, in this process: unhealthy at once, never a loop', async () => {
    const sink = new AppendOnlyFileSink({ directory: UNCREATABLE, retryIntervalMs: 0 });
    assert.equal(sink.healthy, false);
    assert.equal(sink.probe(true), false);
    await sink.close();
  });
});

describe('safeMkdir', () => {
  test('creates every missing level; the errors of the file system as they are', () => {
    const calls: string[] = [];
    const made = new Set(['/']);
    const operations = {
      statSync: (path: string) => {
        if (!made.has(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        return { mode: 0o040700 };
      },
      mkdirSync: (path: string, options: { mode: number }) => {
        calls.push(`${path} ${options.mode.toString(8)}`);
        made.add(path);
      },
    };
    safeMkdir('/a/b/c', 0o700, operations);
    assert.deepEqual(calls, ['/a 700', '/a/b 700', '/a/b/c 700']);
    calls.length = 0;
    safeMkdir('/a/b', 0o700, operations);
    assert.deepEqual(calls, [], 'an existing directory: nothing to do');
    if (onProcfs) {
      assert.throws(() => safeMkdir(UNCREATABLE, 0o700), { code: 'ENOENT', syscall: 'mkdir', path: '/proc/nonexistent' });
    }
  });
});
