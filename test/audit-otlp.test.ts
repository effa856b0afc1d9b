/*
 * The OTLP audit sink and the central verifier, in this process: each record written locally also
 * leaves as an OTLP log record (exact body, attributes, resource), a refused delivery is retried, what
 * cannot be delivered stays in the local trail and is named by an `undelivered` record, and the
 * verifier of collector output reports foreign records, cut lines, unknown keys and forged records.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AppendOnlyFileSink, AuditSpanProcessor, OtlpAuditSink, canonicalJson, verifyAuditTrail, verifyCollectedAuditTrail } from '../src/audit';
import { keyIdOf } from '../src/audit/record';
import { auditOperation, auditSessions, auditTempDirs, captureDiag, loadCollected, logRecordsOf, segmentLines, setLogAttribute, startAuditCollector } from './helpers/audit';
import { REPO_ROOT } from './helpers/sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */
const tempDir = auditTempDirs('mcp-audit-otlp-');
const diagMessages = captureDiag();
const sessions = auditSessions(tempDir);
const CLI = join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');

/** What this Node's JSON parser says of a text it refuses. */
function jsonErrorOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parsed`);
}

/** The one segment file of a trail directory. */
function onlySegment(directory: string): string {
  const files = readdirSync(directory).filter((name) => name.endsWith('.jsonl'));
  assert.equal(files.length, 1, `one segment in ${directory}: ${files.join(', ')}`);
  return join(directory, files[0]!);
}

function attributesOf(logRecord: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of logRecord.attributes) out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value);
  return out;
}

/** A sink writing into a new directory and shipping to `endpoint` over OTLP/HTTP JSON, batches sent after 20 ms. */
function shippingSink(
  endpoint: string,
  options: { instance: string; hmacKey?: string; maxAttempts?: number; timeoutMillis?: number },
): { sink: AppendOnlyFileSink; otlp: OtlpAuditSink; directory: string } {
  const otlp = new OtlpAuditSink({
    endpoint,
    timeoutMillis: options.timeoutMillis,
    protocol: 'http/json',
    scheduledDelayMillis: 20,
    initialBackoffMillis: 20,
    maxAttempts: options.maxAttempts,
    resource: { 'service.instance.id': options.instance },
  });
  const directory = join(tempDir(), 'audit');
  const sink = new AppendOnlyFileSink({ directory, hmacKey: options.hmacKey, ship: otlp });
  return { sink, otlp, directory };
}

describe('the OTLP audit sink', () => {
  test('each record leaves as a log record: its canonical line the body, the chain fields attributes, the replica the resource', async () => {
    const collector = await startAuditCollector({ file: join(tempDir(), 'collected.jsonl') });
    const session = await sessions.start({
      audit: { otlp: { endpoint: collector.endpoint, protocol: 'http/json', scheduledDelayMillis: 20, resource: { 'service.instance.id': 'replica-a' } } },
    });
    assert.equal(await session.note('one'), 'noted one');
    assert.equal(await session.note('two'), 'noted two');
    await session.close();
    await collector.close();

    const local = segmentLines(onlySegment(session.auditDir));
    // segment header, initialize, two tools/call, close
    assert.deepEqual(local.map((line) => JSON.parse(line).type), ['segment', 'op', 'op', 'op', 'close']);
    const shipped = collector.records();
    assert.deepEqual(shipped.map((r) => r.line), local, 'the exact lines, in order');
    assert.deepEqual([...new Set(shipped.map((r) => r.replica))], ['replica-a']);

    const body = collector.bodies[0];
    const resource = attributesOf(body.resourceLogs[0].resource);
    assert.equal(resource['service.instance.id'], 'replica-a');
    assert.equal(resource['process.pid'], process.pid);
    const scope = body.resourceLogs[0].scopeLogs[0].scope;
    assert.equal(scope.name, 'opentelemetry-instrumentation-mcp/audit');
    const first = body.resourceLogs[0].scopeLogs[0].logRecords[0];
    const header = JSON.parse(local[0]!);
    assert.equal(first.eventName, 'mcp.audit.record');
    assert.equal(first.severityNumber, 9);
    assert.deepEqual(attributesOf(first), {
      'mcp.audit.chain': header.chain,
      'mcp.audit.chain.name': header.file.replace(/-000001\.jsonl$/, ''),
      'mcp.audit.seq': 1,
      'mcp.audit.prev': '0'.repeat(64),
      'mcp.audit.hash': header.hash,
      'mcp.audit.record.type': 'segment',
    });

    const result = verifyCollectedAuditTrail(collector.file);
    assert.deepEqual(result.problems, []);
    assert.equal(result.status, 'ok');
    const last = JSON.parse(local[local.length - 1]!);
    assert.deepEqual(result.chains, [
      {
        chain: header.chain,
        name: header.file.replace(/-000001\.jsonl$/, ''),
        replicas: ['replica-a'],
        records: 5,
        operations: 3,
        firstSeq: 1,
        lastSeq: 5,
        lastHash: last.hash,
        closed: true,
        duplicates: 0,
        undelivered: [],
        verified: true,
      },
    ]);
  });

  test('a delivery refused with 503 is retried, and arrives once', async () => {
    const collector = await startAuditCollector({ file: join(tempDir(), 'collected.jsonl'), refuse: (n) => (n === 1 ? 503 : undefined) });
    const { sink, otlp, directory } = shippingSink(collector.endpoint, { instance: 'replica-b' });
    sink.append(auditOperation(1));
    await sink.close();
    await collector.close();
    assert.equal(collector.refused, 1);
    assert.deepEqual(otlp.counts, { delivered: 3, dropped: 0, queued: 0 });
    assert.deepEqual(collector.records().map((r) => r.line), segmentLines(onlySegment(directory)));
    const result = verifyCollectedAuditTrail(collector.file);
    assert.equal(result.status, 'ok');
    assert.equal(result.duplicates, 0);
  });

  test('what cannot be delivered stays in the local trail, counted, and an undelivered record names it', async () => {
    // Non-retryable (400), one attempt per batch: the first batch is dropped from the queue.
    const collector = await startAuditCollector({ file: join(tempDir(), 'collected.jsonl'), refuse: (n) => (n === 1 ? 400 : undefined) });
    const { sink, otlp, directory } = shippingSink(collector.endpoint, { instance: 'replica-c', maxAttempts: 1 });
    sink.append(auditOperation(1));
    // Waits on the sink's own counts: the collector has answered before the sink has read the answer.
    await collector.waitFor(() => otlp.counts.dropped === 2, 20_000, 'the first delivery, refused and dropped');
    sink.append(auditOperation(2));
    await collector.waitFor(() => otlp.counts.delivered >= 1, 20_000, 'a delivery accepted (and the undelivered record written)');
    sink.append(auditOperation(3));
    await sink.close();
    await collector.close();

    const lost = logRecordsOf(collector.refusedBodies[0]).map((r) => r.seq);
    assert.deepEqual(lost, [1, 2], 'the segment header and the first operation');
    assert.deepEqual(otlp.counts, { delivered: 4, dropped: 2, queued: 0 });
    assert.equal(diagMessages.filter((m) => /could not be delivered to http:\/\/127\.0\.0\.1:\d+\/v1\/logs/.test(m)).length, 1, diagMessages.join('\n'));
    assert.ok(diagMessages.includes(`warn: opentelemetry-instrumentation-mcp/audit 2 audit record(s) were not delivered to ${collector.endpoint}/v1/logs (4 were); they are in the local trail`), diagMessages.join('\n'));

    const local = segmentLines(onlySegment(directory)).map((line) => JSON.parse(line));
    assert.deepEqual(local.map((r) => r.type), ['segment', 'op', 'op', 'undelivered', 'op', 'close']);
    const undelivered = local[3];
    assert.equal(undelivered.count, 2);
    assert.deepEqual(undelivered.seqs, [[1, 2]]);
    assert.match(undelivered.error, /Bad Request|400/);
    assert.equal(verifyAuditTrail(directory).status, 'ok', 'the local trail holds every record');

    const result = verifyCollectedAuditTrail(collector.file);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.chains.map((c) => [c.firstSeq, c.lastSeq, c.records, c.undelivered, c.closed]), [[3, 6, 4, [[1, 2]], true]]);
  });

  test('the application never waits for delivery: append returns with the collector unreachable', async () => {
    const { sink, otlp } = shippingSink('http://127.0.0.1:9', { instance: 'replica-d', maxAttempts: 1, timeoutMillis: 300 });
    sink.append(auditOperation(1));
    assert.equal(sink.healthy, true);
    assert.equal(otlp.counts.queued, 2);
    await sink.close();
    assert.deepEqual(otlp.counts, { delivered: 0, dropped: 3, queued: 0 });
  });

  test('the logs SDK and the OTLP exporter are loaded only when an OTLP sink is made', () => {
    const audit = join(REPO_ROOT, 'build', 'src', 'audit', 'index.js');
    const script = (make: string): string => `
      const a = require(${JSON.stringify(audit)});
      ${make}
      const heavy = Object.keys(require.cache).filter((f) => /@opentelemetry[\\/](sdk-logs|exporter-logs-otlp-[a-z]+|resources)[\\/]/.test(f));
      process.stderr.write(JSON.stringify([...new Set(heavy.map((f) => f.match(/.*@opentelemetry[\\/]([a-z-]+)/)[1]))].sort()));
    `;
    const run = (make: string): string[] => {
      const child = spawnSync(process.execPath, ['-e', script(make)], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stderr);
    };
    assert.deepEqual(run(''), []);
    assert.deepEqual(run("new a.OtlpAuditSink({ endpoint: 'http://127.0.0.1:9', protocol: 'http/json' });"), ['exporter-logs-otlp-http', 'resources', 'sdk-logs']);
  });

  test('otlp with a sink of its own is refused (it ships what the file sink writes)', () => {
    assert.throws(
      () => new AuditSpanProcessor({ sink: {} as any, otlp: { endpoint: 'http://127.0.0.1:9' } }),
      /`otlp` ships what the file sink writes: give it with `directory` or `file`, not `sink`/,
    );
  });
});

describe('verifying collector output: bad input', () => {
  /** A closed chain of two operations delivered to a new collector file; returns the file and its lines. */
  async function collected(options: { instance: string; hmacKey?: string }): Promise<{ file: string; records: Array<{ line: string; seq: number }> }> {
    const collector = await startAuditCollector({ file: join(tempDir(), 'collected.jsonl') });
    const { sink } = shippingSink(collector.endpoint, options);
    sink.append(auditOperation(1));
    sink.append(auditOperation(2));
    await sink.close();
    await collector.close();
    return { file: collector.file, records: collector.records() };
  }

  test('foreign log records are skipped and counted; a line cut short is reported with its position', async () => {
    const { file } = await collected({ instance: 'replica-e' });
    const requests = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length;
    const foreign = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'app' }, logRecords: [{ body: { stringValue: 'hello' } }, { body: { stringValue: 'world' } }] }] }] };
    const cutLine = '{"resourceLogs":[{"resource":{"attri';
    appendFileSync(file, `${JSON.stringify(foreign)}\n${cutLine}`);
    // The parser's own words differ between Node lines (22 adds "(line 1 column 37)"): take them from this one.
    const parserSays = jsonErrorOf(cutLine);
    assert.match(parserSays, /position 36/);
    const result = verifyCollectedAuditTrail(file);
    assert.equal(result.status, 'broken');
    assert.equal(result.foreign, 2);
    assert.equal(result.records, 4);
    assert.deepEqual(result.problems, [
      {
        file,
        line: requests + 2,
        message:
          `the last line is cut short (no newline): the file was truncated, or its writer stopped mid-line (${parserSays}); its records are not read`,
      },
    ]);
  });

  test('a chain keyed with an unknown key id is reported, not verified, never a crash', async () => {
    const { file } = await collected({ instance: 'replica-f', hmacKey: 'key-one' });
    const chainKeyId = keyIdOf(Buffer.from('key-one'));
    assert.equal(verifyCollectedAuditTrail(file, { key: 'key-one' }).status, 'ok');
    const wrong = verifyCollectedAuditTrail(file, { key: 'key-two' });
    assert.equal(wrong.status, 'broken');
    assert.deepEqual(
      wrong.problems.map((p) => p.message.replace(/chain \S+ \(\S+\)/, 'chain C')),
      [`replica replica-f, chain C: keyed with the unknown key id ${chainKeyId} (the key given has id ${keyIdOf(Buffer.from('key-two'))}): not verified`],
    );
    assert.equal(wrong.chains[0]!.verified, false);
    const none = verifyCollectedAuditTrail(file);
    assert.deepEqual(
      none.problems.map((p) => p.message.replace(/chain \S+ \(\S+\)/, 'chain C')),
      [`replica replica-f, chain C: keyed (HMAC-SHA-256, key id ${chainKeyId}): not verified without its key (--key)`],
    );
  });

  test('a record forged with a valid hash (no key) is named by the record after it', async () => {
    const { file } = await collected({ instance: 'replica-g' });
    const loaded = loadCollected(file);
    const victim = loaded.records.find((r) => r.record.seq === 2)!;
    const { hash: _hash, ...rest } = { ...victim.record, tool: 'forged' };
    const forgedHash = createHash('sha256').update(canonicalJson(rest)).digest('hex');
    victim.logRecord.body.stringValue = canonicalJson({ ...rest, hash: forgedHash });
    setLogAttribute(victim.logRecord, 'mcp.audit.hash', forgedHash);
    const tampered = join(tempDir(), 'forged.jsonl');
    loaded.write(tampered);
    const result = verifyCollectedAuditTrail(tampered);
    assert.deepEqual(
      result.problems.map((p) => p.message.replace(/chain \S+ \(\S+\)/, 'chain C')),
      ['replica replica-g, chain C: seq 3: prev does not match the hash of seq 2: seq 2 was replaced (forged)'],
    );
  });

  test('the CLI sniffs collector output (or is told: --otlp), and refuses a directory that mixes both kinds', async () => {
    const { file } = await collected({ instance: 'replica-h' });
    const ok = spawnSync(process.execPath, [CLI, 'audit', 'verify', file], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const lines = ok.stdout.split('\n');
    assert.equal(lines[0], 'ok: 1 replica(s), 1 chain(s), 4 records from ' + readFileSync(file, 'utf8').split('\n').filter((l) => l).length + ' export request(s) (0 duplicate(s) from retries, 0 other log record(s) skipped)');
    assert.match(lines[1]!, /^chain [0-9a-f-]{36} \(audit-\S+\) replica replica-h: 4 records \(2 operations\), seq 1–4, closed, head seq 4 [0-9a-f]{64}$/);
    const renamed = join(tempDir(), 'export.data');
    copyFileSync(file, renamed);
    const told = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--otlp', renamed], { encoding: 'utf8' });
    assert.equal(told.status, 0, told.stdout + told.stderr);
    const mixed = join(tempDir(), 'mixed');
    mkdirSync(mixed);
    copyFileSync(file, join(mixed, 'collected.json'));
    const { sink, directory } = shippingSink('http://127.0.0.1:9', { instance: 'x', maxAttempts: 1, timeoutMillis: 300 });
    await sink.close();
    copyFileSync(onlySegment(directory), join(mixed, 'segment-000001.jsonl'));
    const refused = spawnSync(process.execPath, [CLI, 'audit', 'verify', mixed], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /mixes local segments and collector output: verify them apart/);
  });
});
