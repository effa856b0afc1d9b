/*
 * The audit trail of a fleet: three replica processes (stdio MCP servers under the zero-code preload,
 * each with its audit directory and the OTLP endpoint of a loopback collector) under load; one is
 * killed with SIGKILL mid-load, the collector refuses a delivery (503, then takes the retry) and writes
 * others twice. The collected trail verifies, what it lacks is in the killed replica's local trail, and
 * an edited, a deleted and two reordered records are each named with their replica.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, verifyAuditTrail, verifyCollectedAuditTrail } from '../src/audit';
import { auditScenario, auditTempDirs, loadCollected, logRecordsOf, segmentLines, setLogAttribute, startAuditCollector, type CollectedLogRecord } from './helpers/audit';
import { mcpSdk } from './helpers/mcp';
import { childEnv, fixture, REPO_ROOT } from './helpers/sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
const tempDir = auditTempDirs('mcp-audit-fleet-');
const REGISTER = join(REPO_ROOT, 'build', 'src', 'register.js');
const CLI = join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
const CALL = { timeout: 30_000 };

interface Replica {
  name: string;
  directory: string;
  client: any;
  child: any;
  connected: Promise<void>;
  stderr: string[];
}

const children: any[] = [];

function zeroCodeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = childEnv({
    OTEL_SERVICE_NAME: 'mcp-fleet',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_INSTRUMENTATION_MCP_LOG: 'off',
    ...extra,
  });
  delete env.NODE_OPTIONS;
  return env;
}

function startReplica(name: string, root: string, endpoint: string): Replica {
  const { Client, StdioClientTransport } = mcpSdk() as any;
  const directory = join(root, name);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--require', REGISTER, fixture('audit-replica.cjs')],
    env: zeroCodeEnv({
      OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: directory,
      OTEL_INSTRUMENTATION_MCP_AUDIT_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${name}`,
    }) as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client(auditScenario.AUDIT_CLIENT_INFO);
  const connected = client.connect(transport, CALL) as Promise<void>;
  const child = transport._process;
  children.push(child);
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(String(chunk)));
  return { name, directory, client, child, connected, stderr };
}

async function notes(replica: Replica, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const result = await replica.client.callTool({ name: 'note', arguments: { text: `${replica.name}-${i}` } }, undefined, CALL);
    assert.equal(result.content[0].text, `noted ${replica.name}-${i}`);
  }
}

async function exited(child: any): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

/**
 * Ends the replica's standard input, as a host closing the connection does, and waits for it to exit.
 * (Not the client's close(): on older SDK releases, 1.10 and 1.21 among them, it sends SIGTERM at once.)
 */
async function endInput(replica: Replica): Promise<void> {
  replica.child.stdin.end();
  await exited(replica.child);
}

/** An op record of `replica` whose body is in the file once, with a record after it in the chain. */
function pickOnce(records: CollectedLogRecord[], replica: string, notAfter: number, skip = 0): CollectedLogRecord {
  const copies = new Map<string, number>();
  for (const r of records) copies.set(r.logRecord.body.stringValue, (copies.get(r.logRecord.body.stringValue) ?? 0) + 1);
  const once = (seq: number): boolean => records.filter((r) => r.replica === replica && r.record.seq === seq).every((r) => copies.get(r.logRecord.body.stringValue) === 1);
  const candidates = records
    .filter((r) => r.replica === replica && r.record.type === 'op' && r.record.seq + 1 < notAfter && once(r.record.seq) && once(r.record.seq + 1))
    .sort((a, b) => a.record.seq - b.record.seq);
  assert.ok(candidates.length > skip, `a record of ${replica} delivered once`);
  return candidates[skip]!;
}

describe('the audit trail of a fleet, shipped over OTLP and verified centrally', () => {
  test('three replicas, one killed mid-load, deliveries refused and repeated; tampering named with its replica', async () => {
    try {
      const root = tempDir();
      // The first delivery accepted from replica-1 and from replica-3 is written twice; their later ones
      // (notes 9 on, sent after the first ones are collected) and all of replica-2's stay single, for the
      // tampering below.
      const repeated = new Set<string>();
      const collector = await startAuditCollector({
        file: join(root, 'collected.jsonl'),
        refuse: (n) => (n === 2 ? 503 : undefined),
        duplicate: (_n, body) => {
          const replica = logRecordsOf(body)[0]?.replica;
          if (replica === undefined || replica === 'replica-2' || repeated.has(replica)) return false;
          repeated.add(replica);
          return true;
        },
      });
      const replicas = ['replica-1', 'replica-2', 'replica-3'].map((name) => startReplica(name, root, collector.endpoint));
      const [one, two, three] = replicas as [Replica, Replica, Replica];
      await Promise.all(replicas.map((r) => r.connected));
      await Promise.all(replicas.map((r) => notes(r, 1, 8)));

      // replica-2's records reach the collector; then it dies with calls in flight.
      await collector.waitFor(() => collector.records().some((r) => r.replica === 'replica-2' && r.seq >= 6), 60_000, "replica-2's records");
      const inFlight = [9, 10, 11, 12].map((i) =>
        two.client.callTool({ name: 'note', arguments: { text: `replica-2-${i}` } }, undefined, CALL).then(
          () => 'answered',
          () => 'lost',
        ),
      );
      two.child.kill('SIGKILL');
      await exited(two.child);
      await Promise.all(inFlight);
      await collector.waitFor(() => repeated.size === 2, 60_000, 'the first deliveries of replica-1 and replica-3');
      await Promise.all([one, three].map((r) => notes(r, 9, 8)));
      // Standard input ends: the replicas close, the preload ships the rest and exits.
      await Promise.all([one, three].map((r) => endInput(r)));
      await Promise.all([one, three].map((r) => r.client.close()));
      await two.client.close();
      await collector.close();
      assert.equal(collector.refused, 1, 'one delivery refused (503), then retried');
      assert.ok(collector.duplicatedRecords > 0, 'deliveries written twice');
      for (const r of [one, three]) assert.equal(r.child.exitCode, 0, r.stderr.join(''));

      // A foreign log record in the same file: skipped, counted.
      const foreign = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'app' }, logRecords: [{ body: { stringValue: 'app log' } }] }] }] };
      appendFileSync(collector.file, `${JSON.stringify(foreign)}\n`);
      const requests = collector.bodies.length + 1;

      // The local trails: whole (the killed replica's open), each the source of what was shipped.
      const local = new Map(replicas.map((r) => [r.name, verifyAuditTrail(r.directory, { allowOpen: r === two })]));
      for (const [name, result] of local) assert.equal(result.status, 'ok', `${name}: ${JSON.stringify(result.problem)}`);
      const localLines = (r: Replica): string[] => segmentLines(local.get(r.name)!.chains[0]!.files[0]!);

      const result = verifyCollectedAuditTrail(collector.file);
      assert.deepEqual(result.problems, []);
      assert.equal(result.status, 'ok');
      assert.deepEqual(result.replicas, ['replica-1', 'replica-2', 'replica-3']);
      assert.equal(result.duplicates, collector.duplicatedRecords);
      assert.equal(result.foreign, 1);
      assert.equal(result.lines, requests);
      for (const r of replicas) {
        const chain = result.chains.find((c) => c.replicas[0] === r.name)!;
        const mine = local.get(r.name)!.chains[0]!;
        assert.equal(chain.chain, mine.chain);
        assert.deepEqual(chain.replicas, [r.name]);
        assert.equal(chain.firstSeq, 1);
        assert.deepEqual(chain.undelivered, []);
        const lines = localLines(r);
        // Every record delivered is the local record of its seq, byte for byte.
        for (const shipped of collector.records().filter((x) => x.replica === r.name)) assert.equal(shipped.line, lines[shipped.seq - 1]);
        if (r === two) {
          assert.equal(chain.closed, false);
          assert.ok(chain.lastSeq <= mine.lastSeq, 'the rest is in the local trail');
          assert.equal(chain.lastHash, JSON.parse(lines[chain.lastSeq - 1]!).hash);
        } else {
          assert.equal(chain.closed, true);
          assert.deepEqual([chain.records, chain.lastSeq, chain.lastHash], [mine.records, mine.lastSeq, mine.lastHash]);
        }
      }
      const cli = spawnSync(process.execPath, [CLI, 'audit', 'verify', collector.file], { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stdout + cli.stderr);
      assert.equal(
        cli.stdout.split('\n')[0],
        `ok: 3 replica(s), 3 chain(s), ${result.records} records from ${requests} export request(s) (${collector.duplicatedRecords} duplicate(s) from retries, 1 other log record(s) skipped)`,
      );

      // Tampering with the collected trail: an edit in replica-1, a deletion in replica-3, a reordering in replica-2.
      const loaded = loadCollected(collector.file);
      const chainOf = (name: string) => result.chains.find((c) => c.replicas[0] === name)!;
      const edited = pickOnce(loaded.records, 'replica-1', Infinity);
      edited.logRecord.body.stringValue = canonicalJson({ ...edited.record, outcome: 'error' });
      const deleted = pickOnce(loaded.records, 'replica-3', Infinity, 2);
      deleted.holder.splice(deleted.holder.indexOf(deleted.logRecord), 1);
      const after = loaded.records.find((r) => r.replica === 'replica-3' && r.record.seq === deleted.record.seq + 1)!;
      const a = pickOnce(loaded.records, 'replica-2', chainOf('replica-2').lastSeq);
      const b = loaded.records.find((r) => r.replica === 'replica-2' && r.record.seq === a.record.seq + 1)!;
      // Each takes the other's place: seq and prev swapped (bodies and attributes), and their positions in the file.
      const [aBody, bBody] = [{ ...a.record, seq: b.record.seq, prev: b.record.prev }, { ...b.record, seq: a.record.seq, prev: a.record.prev }];
      for (const [r, body] of [[a, aBody], [b, bBody]] as const) {
        r.logRecord.body.stringValue = canonicalJson(body);
        setLogAttribute(r.logRecord, 'mcp.audit.seq', body.seq);
        setLogAttribute(r.logRecord, 'mcp.audit.prev', body.prev);
      }
      const [ia, ib] = [a.holder.indexOf(a.logRecord), b.holder.indexOf(b.logRecord)];
      [a.holder[ia], b.holder[ib]] = [b.logRecord, a.logRecord];
      const tampered = join(root, 'tampered.jsonl');
      loaded.write(tampered);

      const broken = verifyCollectedAuditTrail(tampered);
      assert.equal(broken.status, 'broken');
      const described = (name: string): string => `replica ${name}, chain ${chainOf(name).chain} (${chainOf(name).name})`;
      const expected = [
        {
          file: tampered,
          line: edited.line,
          replica: 'replica-1',
          chain: chainOf('replica-1').chain,
          seq: edited.record.seq,
          message: `${described('replica-1')}: seq ${edited.record.seq}: its hash does not match its contents (the record was edited)`,
        },
        {
          // The record that now claims the first place is b's, moved to a's place in the file.
          file: tampered,
          line: a.line,
          replica: 'replica-2',
          chain: chainOf('replica-2').chain,
          seq: a.record.seq,
          message: `${described('replica-2')}: seq ${a.record.seq} and seq ${b.record.seq} swapped places (reordered): each record's hash matches the other's position`,
        },
        {
          file: tampered,
          line: after.line,
          replica: 'replica-3',
          chain: chainOf('replica-3').chain,
          seq: deleted.record.seq,
          message: `${described('replica-3')}: seq ${deleted.record.seq} missing: 1 record(s) deleted from the collected trail, or lost after the collector accepted them`,
        },
      ];
      const byReplica = (x: { replica?: string }, y: { replica?: string }): number => (x.replica! < y.replica! ? -1 : 1);
      assert.deepEqual([...broken.problems].sort(byReplica), expected);
      const cliBroken = spawnSync(process.execPath, [CLI, 'audit', 'verify', tampered], { encoding: 'utf8' });
      assert.equal(cliBroken.status, 1);
      const problemLines = cliBroken.stdout.split('\n').filter((line) => line.startsWith('problem: '));
      assert.deepEqual(problemLines.sort(), expected.map((p) => `problem: ${p.file}:${p.line}: ${p.message}`).sort());
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('zero-code: an unreachable audit collector never keeps a stdio replica alive; its local trail is whole', async () => {
    const root = tempDir();
    const replica = startReplica('replica-x', root, 'http://127.0.0.1:9');
    try {
      await replica.connected;
      await notes(replica, 1, 2);
      await endInput(replica);
      await replica.client.close();
      assert.equal(replica.child.exitCode, 0, replica.stderr.join(''));
      const local = verifyAuditTrail(replica.directory);
      assert.equal(local.status, 'ok');
      assert.deepEqual([local.chains[0]!.operations, local.chains[0]!.closed], [3, true]);
    } finally {
      if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
    }
  });

  test('zero-code: the OTLP endpoint without an audit directory ships nothing, and says so once on stderr', () => {
    const child = spawnSync(process.execPath, ['--require', REGISTER, fixture('zero-code-app.cjs')], {
      env: zeroCodeEnv({ OTEL_INSTRUMENTATION_MCP_AUDIT_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'result: hi\n');
    assert.equal(
      child.stderr,
      'opentelemetry-instrumentation-mcp/register: OTEL_INSTRUMENTATION_MCP_AUDIT_OTLP_ENDPOINT needs OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: ' +
        'the local trail is the source of truth the OTLP sink ships from; nothing is shipped\n',
    );
  });
});
