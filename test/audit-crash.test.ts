/*
 * A crash: a real stdio server process (test/fixtures/audit-server.cjs, fsync after every record,
 * nothing sampled) is killed with SIGKILL while calls are in flight. Every call whose response reached
 * the client before the kill is in the trail; after a restart in the same directory (which finds a
 * torn last line, as a power loss would leave) and more calls, the whole trail verifies as one chain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { McpInstrumentation } from '../src';
import { canonicalJson, verifyAuditTrail } from '../src/audit';
import { setupOtel, waitFor } from './helpers/otel';
import { auditScenario, auditServers, auditTempDirs } from './helpers/audit';

const otel = setupOtel();
new McpInstrumentation();
const scenario = auditScenario;
const root = auditTempDirs('mcp-audit-crash-')();
const servers = auditServers();

/* eslint-disable @typescript-eslint/no-explicit-any */
const tracer = trace.getTracer('audit-crash-test');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function startServer(auditDir: string): Promise<{ client: any; child: any; stderr: string[] }> {
  const { client, connected, child, stderr } = servers.start({ AUDIT_DIR: auditDir });
  await connected;
  assert.ok(child !== undefined && typeof child.pid === 'number', 'the server process');
  return { client, child, stderr };
}

async function exited(child: any): Promise<void> {
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, 20_000, 'the server process to exit');
}

function call(client: any, text: string, signal?: AbortSignal): Promise<{ traceId: string; text: string }> {
  return tracer.startActiveSpan(`call ${text}`, async (span: Span) => {
    try {
      const result = await client.callTool({ name: 'note', arguments: { text } }, undefined, { signal });
      assert.equal(result.content[0].text, `noted ${text}`);
      return { traceId: span.spanContext().traceId, text };
    } finally {
      span.end();
    }
  });
}

test('SIGKILL under load: every acknowledged call is in the trail, and the chain verifies after a restart', async () => {
  const auditDir = join(root, 'audit');
  const ACKED_BEFORE_KILL = 150;
  const CONCURRENCY = 8;

  // 1. Load, then SIGKILL mid-stream.
  const first = await startServer(auditDir);
  const acked: { traceId: string; text: string }[] = [];
  let killed = false;
  let next = 0;
  let failedInFlight = 0;
  // Older SDKs keep the timeout timer of a request the closed connection failed: cancel them after.
  const inFlight = new AbortController();
  const worker = async () => {
    while (!killed) {
      try {
        acked.push(await call(first.client, `before-${next++}`, inFlight.signal));
        if (acked.length >= ACKED_BEFORE_KILL && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      } catch {
        failedInFlight += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await exited(first.child);
  inFlight.abort();
  assert.equal(first.child.signalCode, 'SIGKILL');
  await first.client.close().catch(() => {});
  assert.ok(acked.length >= ACKED_BEFORE_KILL);

  // Every acknowledged call is in the trail, written by the killed process: by trace id, request id and digest.
  const clientSpans = otel.spans().filter((s) => s.kind === SpanKind.CLIENT && s.name === 'tools/call note');
  const requestIdOf = new Map(clientSpans.map((s) => [s.spanContext().traceId, s.attributes['jsonrpc.request.id']]));
  const written = scenario.readOperations(auditDir).filter((o: any) => o.method === 'tools/call');
  const byTrace = new Map(written.map((o: any) => [o.traceId, o]));
  for (const { traceId, text } of acked) {
    const op: any = byTrace.get(traceId);
    assert.ok(op !== undefined, `acknowledged call ${text} (trace ${traceId}) is in the trail`);
    assert.equal(op.requestId, requestIdOf.get(traceId), `${text}: same request id`);
    assert.equal(op.args.sha256, sha256(canonicalJson({ text })), `${text}: same arguments`);
    assert.equal(op.outcome, 'ok');
  }
  assert.ok(written.length >= acked.length && written.length <= acked.length + CONCURRENCY + failedInFlight);
  const killedChain = verifyAuditTrail(auditDir, { allowOpen: true });
  assert.equal(killedChain.status, 'ok', 'intact up to the kill (open: its writer died)');
  assert.equal(verifyAuditTrail(auditDir).status, 'broken', 'but not closed');

  // 2. A power loss could also have torn the last write: leave such a tail for the restart to find.
  const [segment] = readdirSync(auditDir).filter((f) => f.endsWith('.jsonl'));
  appendFileSync(join(auditDir, segment!), '{"actor":{"client":{"name":"audit-cli');

  // 3. Restart in the same directory; more calls; a clean shutdown.
  const second = await startServer(auditDir);
  const after: { traceId: string; text: string }[] = [];
  for (let i = 0; i < 20; i++) after.push(await call(second.client, `after-${i}`));
  second.child.stdin.end();
  await exited(second.child);
  assert.equal(second.child.exitCode, 0);
  await second.client.close().catch(() => {});
  const diagnostics = second.stderr.join('');
  assert.match(diagnostics, /continuing the chain of .+ \(its writer is gone\)/);
  assert.match(diagnostics, /are not a whole record .+ sealed with a `seal` record, never overwritten/);

  // 4. One chain over both processes, verified whole.
  const verified = verifyAuditTrail(auditDir);
  assert.equal(verified.status, 'ok', JSON.stringify(verified.problem));
  assert.equal(verified.chains.length, 1);
  assert.equal(verified.segments, 2);
  assert.equal(verified.chains[0]!.closed, true);
  assert.equal(verified.chains[0]!.seals, 1);
  const trail = scenario.readTrail(auditDir);
  assert.deepEqual(
    trail.segments.map((s: any) => [s.header.writer.pid, s.header.reason]),
    [
      [first.child.pid, 'start'],
      [second.child.pid, 'restart'],
    ],
  );
  const all = new Map(scenario.readOperations(auditDir).map((o: any) => [o.traceId, o]));
  for (const { traceId, text } of [...acked, ...after]) assert.ok(all.has(traceId), `${text} is in the verified trail`);
});
