/*
 * The audit trail over a real SDK session (in-memory transport): record contents for every outcome,
 * the actor from authInfo (never the token), argument digests, audited methods and sides, sampling
 * independence, the chain across rotation (size and day), file modes and flags, one writer per chain,
 * and the audit trail kept apart from the JSON-line log.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpRecordingSampler } from '../src/sampler';
import { requestObservers } from '../src/request-observers';
import { JsonLogSpanProcessor } from '../src/json-log';
import {
  AppendOnlyFileSink,
  AuditLockError,
  AuditSpanProcessor,
  ENV_AUDIT_RECORD_ARGUMENTS,
  verifyAuditTrail,
  type AuditOperation,
} from '../src/audit';
import { auditOperation, auditScenario, auditSessions, auditTempDirs, captureDiag } from './helpers/audit';
import { only, type FinishedSpan } from './helpers/otel';

const tempDir = auditTempDirs('mcp-audit-');
const diagMessages = captureDiag();
const sessions = auditSessions(tempDir);
const startSession = sessions.start;
const fixture = auditScenario;

/* eslint-disable @typescript-eslint/no-explicit-any */
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

const AUTH = {
  token: 'secret-token-do-not-log',
  clientId: 'client-42',
  scopes: ['tools:call', 'prompts:get'],
  extra: { sub: 'user-7' },
};

/** A record without the fields that vary from run to run (checked separately). */
function stable(record: any): any {
  const { seq, prev, hash, ts, start, durationMs, ...rest } = record;
  assert.ok(Number.isSafeInteger(seq) && seq > 0, 'seq');
  assert.match(prev, HEX64);
  assert.match(hash, HEX64);
  assert.match(ts, ISO);
  if (record.type === 'op') {
    assert.match(start, ISO);
    assert.ok(start <= ts, 'start <= ts');
    assert.ok(typeof durationMs === 'number' && durationMs >= 0, 'durationMs');
  }
  return rest;
}

function serverSpan(spans: FinishedSpan[], name: string): FinishedSpan {
  return only(spans, name, SpanKind.SERVER);
}

function ids(span: FinishedSpan): { requestId: string; traceId: string; spanId: string } {
  return {
    requestId: span.attributes['jsonrpc.request.id'] as string,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
  };
}

describe('audit records', () => {
  test('ok, tool error and protocol error: exact records, the actor from authInfo, never the token', async () => {
    const s = await startSession({ authInfo: AUTH, sessionId: 'session-1' });
    const result = await s.client.callTool({ name: 'note', arguments: { text: 'hello' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'noted hello' }]);
    await s.client.callTool({ name: 'soft-fail', arguments: {} });
    await assert.rejects(s.client.getPrompt({ name: 'no-such-prompt', arguments: {} }), (error: any) => error.code === -32602);
    await s.client.readResource({ uri: 'test://static' });
    await s.client.listTools();
    await s.close();

    const spans = s.spans;
    const ops = fixture.readOperations(s.auditDir);
    assert.deepEqual(
      ops.map((o: any) => `${o.method} ${o.outcome}`),
      ['initialize ok', 'tools/call ok', 'tools/call error', 'prompts/get error', 'resources/read ok'],
      'audited by default: initialize, tools/call, prompts/get, resources/read — not tools/list',
    );
    const actor = {
      session: 'session-1',
      client: { name: 'audit-client', version: '0.9.1' },
      clientId: 'client-42',
      scopes: ['tools:call', 'prompts:get'],
      subject: 'user-7',
    };
    assert.deepEqual(stable(ops[1]), {
      v: 1,
      type: 'op',
      side: 'server',
      method: 'tools/call',
      tool: 'note',
      outcome: 'ok',
      actor,
      args: { sha256: sha256('{"text":"hello"}') },
      ...ids(serverSpan(spans, 'tools/call note')),
    });
    assert.deepEqual(stable(ops[2]), {
      v: 1,
      type: 'op',
      side: 'server',
      method: 'tools/call',
      tool: 'soft-fail',
      outcome: 'error',
      error: { type: 'tool_error' },
      actor,
      args: { sha256: sha256('{}') },
      ...ids(serverSpan(spans, 'tools/call soft-fail')),
    });
    assert.deepEqual(stable(ops[3]), {
      v: 1,
      type: 'op',
      side: 'server',
      method: 'prompts/get',
      prompt: 'no-such-prompt',
      outcome: 'error',
      error: { type: '-32602', code: -32602 },
      actor,
      args: { sha256: sha256('{}') },
      ...ids(serverSpan(spans, 'prompts/get no-such-prompt')),
    });
    assert.deepEqual(stable(ops[4]), {
      v: 1,
      type: 'op',
      side: 'server',
      method: 'resources/read',
      resource: 'test://static',
      outcome: 'ok',
      actor,
      args: { sha256: sha256('{"uri":"test://static"}') },
      ...ids(serverSpan(spans, 'resources/read')),
    });
    const init = stable(ops[0]);
    assert.match(init.args.sha256, HEX64);
    assert.deepEqual({ ...init, args: undefined }, {
      v: 1,
      type: 'op',
      side: 'server',
      method: 'initialize',
      outcome: 'ok',
      actor,
      args: undefined,
      ...ids(serverSpan(spans, 'initialize')),
    });

    for (const file of readdirSync(s.auditDir)) {
      assert.equal(readFileSync(join(s.auditDir, file), 'utf8').includes(AUTH.token), false, `${file} holds no token`);
    }
    const verified = verifyAuditTrail(s.auditDir);
    assert.equal(verified.status, 'ok');
    assert.equal(verified.records, 7);
    assert.deepEqual(fixture.readTrail(s.auditDir).records.map((r: any) => r.type), ['segment', 'op', 'op', 'op', 'op', 'op', 'close']);
    assert.equal(s.processor.pendingRequests, 0, 'every request remembered at its start was consumed at its end');
  });

  test('raw arguments only by opt-in (option or environment variable), cut at maxArgumentsLength', async () => {
    const s = await startSession({ audit: { recordArguments: true, maxArgumentsLength: 13 } });
    await s.client.callTool({ name: 'note', arguments: { text: 'hi' } });
    await s.client.callTool({ name: 'note', arguments: { text: 'a longer text' } });
    await s.close();
    const [, short, long] = fixture.readOperations(s.auditDir);
    assert.deepEqual(short.args, { sha256: sha256('{"text":"hi"}'), json: '{"text":"hi"}' });
    assert.deepEqual(long.args, { sha256: sha256('{"text":"a longer text"}'), json: '{"text":"a lo', truncated: true });

    process.env[ENV_AUDIT_RECORD_ARGUMENTS] = 'true';
    const e = await startSession().finally(() => {
      delete process.env[ENV_AUDIT_RECORD_ARGUMENTS];
    });
    await e.client.callTool({ name: 'note', arguments: { text: 'env' } });
    await e.close();
    assert.deepEqual(fixture.readOperations(e.auditDir)[1].args, { sha256: sha256('{"text":"env"}'), json: '{"text":"env"}' });
  });

  test('recorded arguments: secret keys redacted (built-in and redactKeys, at any depth); the digest is of the arguments as sent; only redactArguments: false keeps them', async () => {
    const args = { text: 'hi', apiKey: 'k-123', nested: { Password: 'p', list: [{ accessToken: 't', ok: 1 }] }, customerId: 'c-9' };
    const sent = '{"apiKey":"k-123","customerId":"c-9","nested":{"Password":"p","list":[{"accessToken":"t","ok":1}]},"text":"hi"}';
    const redacted = '{"apiKey":"[REDACTED]","customerId":"[REDACTED]","nested":{"Password":"[REDACTED]","list":[{"accessToken":"[REDACTED]","ok":1}]},"text":"hi"}';
    const s = await startSession({ audit: { recordArguments: true, redactKeys: ['customerid'], maxArgumentsLength: 4096 } });
    await s.client.callTool({ name: 'note', arguments: args });
    await s.client.callTool({ name: 'note', arguments: { text: 'plain' } });
    await s.close();
    const [, secret, plain] = fixture.readOperations(s.auditDir);
    assert.deepEqual(secret.args, { json: redacted, redacted: true, sha256: sha256(sent) });
    assert.deepEqual(plain.args, { json: '{"text":"plain"}', sha256: sha256('{"text":"plain"}') });
    assert.equal(readFileSync(join(s.auditDir, readdirSync(s.auditDir).find((f) => f.endsWith('.jsonl'))!), 'utf8').includes('k-123'), false);

    const cut = await startSession({ audit: { recordArguments: true, maxArgumentsLength: 20 } });
    await cut.client.callTool({ name: 'note', arguments: args });
    await cut.close();
    assert.deepEqual(fixture.readOperations(cut.auditDir)[1].args, { json: redacted.slice(0, 20), redacted: true, sha256: sha256(sent), truncated: true });

    const verbatim = await startSession({ audit: { recordArguments: true, redactArguments: false } });
    await verbatim.client.callTool({ name: 'note', arguments: args });
    await verbatim.close();
    assert.deepEqual(fixture.readOperations(verbatim.auditDir)[1].args, { json: sent, sha256: sha256(sent) });
  });

  test('configurable methods and sides: client-side records name the server, carry no actor and no digest', async () => {
    const s = await startSession({ audit: { methods: ['tools/call', 'tools/list'], sides: ['server', 'client'] } });
    await s.client.listTools();
    await s.client.callTool({ name: 'note', arguments: { text: 'x' } });
    await s.close();
    const spans = s.spans;
    const ops = fixture.readOperations(s.auditDir).map(stable);
    const client = (name: string) => ids(only(spans, name, SpanKind.CLIENT));
    assert.deepEqual(ops, [
      { v: 1, type: 'op', side: 'server', method: 'tools/list', outcome: 'ok', actor: { client: { name: 'audit-client', version: '0.9.1' } }, args: { sha256: sha256('{}') }, ...ids(serverSpan(spans, 'tools/list')) },
      { v: 1, type: 'op', side: 'client', method: 'tools/list', outcome: 'ok', server: { name: 'audited-server', version: '2.0.0' }, ...client('tools/list') },
      { v: 1, type: 'op', side: 'server', method: 'tools/call', tool: 'note', outcome: 'ok', actor: { client: { name: 'audit-client', version: '0.9.1' } }, args: { sha256: sha256('{"text":"x"}') }, ...ids(serverSpan(spans, 'tools/call note')) },
      { v: 1, type: 'op', side: 'client', method: 'tools/call', tool: 'note', outcome: 'ok', server: { name: 'audited-server', version: '2.0.0' }, ...client('tools/call note') },
    ]);
  });

  test('records are handed to the sink with their members in canonical order, at every level', async () => {
    // The file sink's writer only checks an order it is given (sorting costs more per record); a field
    // added out of order would still be written correctly, only slower: this keeps the order.
    const records: any[] = [];
    const sink = { healthy: true, append: (op: any) => records.push(op), probe: () => true, flush: async () => {}, close: async () => {} };
    const s = await startSession({
      authInfo: AUTH,
      sessionId: 'session-2',
      audit: { sink, sides: ['server', 'client'], recordArguments: true, maxArgumentsLength: 8 },
    });
    await s.client.callTool({ name: 'note', arguments: { text: 'hello' } });
    await s.client.callTool({ name: 'soft-fail', arguments: {} });
    await assert.rejects(s.client.getPrompt({ name: 'no-such-prompt', arguments: {} }));
    await s.client.readResource({ uri: 'test://static' });
    await s.close();
    const unordered: string[] = [];
    const check = (value: unknown, path: string): void => {
      if (value === null || typeof value !== 'object') return;
      const keys = Object.keys(value);
      if (keys.join('\n') !== [...keys].sort().join('\n')) unordered.push(`${path}: ${keys.join(',')}`);
      for (const key of keys) check((value as Record<string, unknown>)[key], `${path}.${key}`);
    };
    records.forEach((record, i) => check(record, `${i} ${record.side} ${record.method}`));
    assert.equal(records.length, 10, 'initialize, two tools/call, prompts/get and resources/read, on both sides');
    // Every optional part of a record occurs among them.
    assert.ok(records.some((r) => r.error?.code === -32602));
    assert.ok(records.some((r) => r.args?.truncated === true));
    assert.ok(records.some((r) => r.actor?.clientId === 'client-42' && r.actor.scopes.length === 2 && r.actor.subject === 'user-7'));
    assert.ok(records.some((r) => r.server?.name === 'audited-server'));
    assert.deepEqual(unordered, []);
  });

  test('independent of sampling: McpRecordingSampler over a 0% sampler still audits every operation', async () => {
    const s = await startSession({ sampler: new McpRecordingSampler(new sdkTrace.AlwaysOffSampler()) });
    for (let i = 0; i < 5; i++) await s.client.callTool({ name: 'note', arguments: { text: `n${i}` } });
    await s.close();
    assert.equal(s.spans.length, 0, 'nothing sampled: nothing exported');
    assert.deepEqual(
      fixture.readOperations(s.auditDir).map((o: any) => o.method),
      ['initialize', 'tools/call', 'tools/call', 'tools/call', 'tools/call', 'tools/call'],
    );

    // Without the recording sampler a sampled-out span never reaches processors: said once, through diag.
    const bare = await startSession({ sampler: new sdkTrace.AlwaysOffSampler() });
    await bare.client.callTool({ name: 'note', arguments: { text: 'lost' } });
    await bare.close();
    assert.deepEqual(fixture.readOperations(bare.auditDir), []);
    assert.equal(diagMessages.filter((m) => m.includes('wrap the sampler in McpRecordingSampler')).length, 1);
    assert.equal(bare.processor.pendingRequests, 0, 'unrecorded requests are not remembered');
  });

  test('requests remembered between start and end are bounded (the oldest are forgotten)', async () => {
    const dir = join(tempDir(), 'audit');
    const processor = new AuditSpanProcessor({ directory: dir, maxPendingRequests: 3 });
    try {
      const observers = [...requestObservers];
      const observer = observers[observers.length - 1]!;
      for (let i = 0; i < 10; i++) {
        const span = { isRecording: () => true, spanContext: () => ({ traceId: 'a'.repeat(32), spanId: String(i).padStart(16, '0'), traceFlags: 0 }) };
        observer.onIncomingRequest({ span: span as any, method: 'tools/call', requestId: i, params: { name: 't', arguments: {} }, extra: {} });
      }
      assert.equal(processor.pendingRequests, 3);
      assert.equal(diagMessages.filter((m) => m.includes('more than 3 audited requests in flight')).length, 1);
    } finally {
      await processor.shutdown();
    }
    assert.equal(processor.pendingRequests, 0);
    assert.equal([...requestObservers].length, 0, 'shutdown removes the request observer');
  });

  test('the library writes nothing to standard output', async () => {
    const original = process.stdout.write;
    const written: unknown[] = [];
    process.stdout.write = ((chunk: unknown) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      const s = await startSession({ audit: { file: { directory: join(tempDir(), 'a'), maxSegmentBytes: 1200 } } });
      for (let i = 0; i < 6; i++) await s.client.callTool({ name: 'note', arguments: { text: `n${i}` } });
      await s.close();
    } finally {
      process.stdout.write = original;
    }
    assert.deepEqual(written, []);
  });
});

describe('the chain and its files', () => {
  test('the chain runs across size rotation: rotate names the next segment, whose header links to it', async () => {
    const s = await startSession({ audit: { file: { directory: join(tempDir(), 'audit'), maxSegmentBytes: 1500 } } });
    for (let i = 0; i < 12; i++) await s.client.callTool({ name: 'note', arguments: { text: `call ${i}` } });
    await s.close();
    const dir = (s.processor.sink as AppendOnlyFileSink).directory;
    const { segments, records } = fixture.readTrail(dir);
    assert.ok(segments.length >= 3, `rotated into ${segments.length} segments`);
    assert.deepEqual(records.map((r: any) => r.seq), records.map((_: unknown, i: number) => i + 1), 'seq is gap-free across files');
    assert.equal(records[0].prev, '0'.repeat(64));
    for (let i = 1; i < records.length; i++) assert.equal(records[i].prev, records[i - 1].hash, `record ${i + 1} links to ${i}`);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      assert.deepEqual(segment.records[0].type, 'segment');
      assert.equal(segment.header.segment, i);
      assert.equal(segment.header.file, segment.name);
      assert.match(segment.name, /^audit-.+-\d+-\d{8}T\d{9}Z(\.\d+)?-\d{6}\.jsonl$/, 'default name: audit-<host>-<pid>-<start>-<n>.jsonl');
      const last = segment.records[segment.records.length - 1];
      if (i < segments.length - 1) {
        assert.deepEqual({ type: last.type, next: last.next, reason: last.reason }, { type: 'rotate', next: segments[i + 1].name, reason: 'size' });
        assert.equal(segments[i + 1].header.prevFile, segment.name);
        assert.equal(segments[i + 1].header.reason, 'size');
        assert.ok(Buffer.byteLength(segment.text) <= 1500 + 400, `${segment.name}: about maxSegmentBytes`);
      } else {
        assert.equal(last.type, 'close');
      }
    }
    assert.equal(records.filter((r: any) => r.type === 'op').length, 13);
    const verified = verifyAuditTrail(dir);
    assert.equal(verified.status, 'ok');
    assert.equal(verified.segments, segments.length);
    assert.equal(verified.records, records.length);
  });

  test('a new segment when the UTC day changes', async () => {
    const dir = join(tempDir(), 'audit');
    let clock = Date.parse('2025-03-01T23:59:58.000Z');
    const sink = new AppendOnlyFileSink({ directory: dir, name: 'daily', now: () => clock });
    sink.append(operation(1));
    clock = Date.parse('2025-03-01T23:59:59.999Z');
    sink.append(operation(2));
    clock = Date.parse('2025-03-02T00:00:00.001Z');
    sink.append(operation(3));
    await sink.close();
    const { segments } = fixture.readTrail(dir);
    assert.deepEqual(
      segments.map((s: any) => [s.name, s.records.map((r: any) => r.type).join(',')]),
      [
        ['daily-000001.jsonl', 'segment,op,op,rotate'],
        ['daily-000002.jsonl', 'segment,op,close'],
      ],
    );
    assert.equal(segments[0].records[3].reason, 'day');
    assert.equal(segments[1].header.ts, '2025-03-02T00:00:00.001Z');
    assert.equal(verifyAuditTrail(dir).status, 'ok');
  });

  test('owner-only files (0600) in an owner-only directory (0700), opened append-only', async (t) => {
    const dir = join(tempDir(), 'nested', 'audit');
    const sink = new AppendOnlyFileSink({ directory: dir, name: 'modes' });
    sink.append(operation(1));
    const segment = join(dir, 'modes-000001.jsonl');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(segment).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'modes.lock')).mode & 0o777, 0o600);
    if (existsSync('/proc/self/fdinfo')) {
      const fds = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === segment;
        } catch {
          return false;
        }
      });
      assert.equal(fds.length, 1, 'one descriptor open on the segment');
      const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, 'utf8'))![1]!, 8);
      assert.equal(flags & 0o2000, 0o2000, 'O_APPEND');
      assert.equal(flags & 0o3, 0o1, 'O_WRONLY');
    } else {
      t.diagnostic('no /proc/self/fdinfo: open flags not checked');
    }
    await sink.close();
    assert.equal(existsSync(join(dir, 'modes.lock')), false, 'the lock is released at close');
  });

  test('one writer per chain: a second live writer of the same name is refused; a dead writer’s lock is taken over', async () => {
    const dir = join(tempDir(), 'audit');
    const first = new AppendOnlyFileSink({ directory: dir, name: 'payments' });
    first.append(operation(1));
    assert.throws(
      () => new AppendOnlyFileSink({ directory: dir, name: 'payments' }),
      (error: unknown) =>
        error instanceof AuditLockError &&
        error.message.includes(`is being written by pid ${process.pid}`) &&
        error.message.includes('Two writers must not share a chain'),
    );
    // Two default-named sinks never share a file, even in one process.
    const a = new AppendOnlyFileSink({ directory: dir });
    const b = new AppendOnlyFileSink({ directory: dir });
    assert.notEqual(a.name, b.name);
    await a.close();
    await b.close();
    await first.close();

    // A lock left by a process that is gone (here: one that has exited) is stale.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, 'payments.lock'), JSON.stringify({ pid: deadPid, host: hostname(), started: '2020-01-01T00:00:00.000Z' }));
    const again = new AppendOnlyFileSink({ directory: dir, name: 'payments' });
    again.append(operation(2));
    await again.close();
    assert.ok(diagMessages.some((m) => m.includes(`taking over the lock`) && m.includes(`pid ${deadPid}`)));
    const payments = fixture.readTrail(dir).segments.filter((s: any) => s.name.startsWith('payments-'));
    assert.deepEqual(
      payments.map((s: any) => [s.name, s.records.map((r: any) => r.type).join(',')]),
      [
        ['payments-000001.jsonl', 'segment,op,close,rotate'],
        ['payments-000002.jsonl', 'segment,op,close'],
      ],
      'the restarted writer continues the chain of its name in a new segment',
    );
    assert.equal(payments[1].header.reason, 'restart');
    const verified = verifyAuditTrail(dir);
    assert.equal(verified.status, 'ok');
    assert.equal(verified.chains.length, 3, 'payments, and the two default-named chains');
  });

  test('the audit trail and the JSON-line log configured together stay apart; purging the log never touches the audit', async () => {
    const root = tempDir();
    const logDir = join(root, 'log');
    const log = new JsonLogSpanProcessor({ destination: join(logDir, 'ops.log'), mkdir: true, rotation: { size: 600, keep: 1 } });
    const s = await startSession({ processors: [log as any] });
    for (let i = 0; i < 20; i++) await s.client.callTool({ name: 'note', arguments: { text: `call ${i}` } });
    await s.client.listTools();
    await s.close();
    const auditFiles = readdirSync(s.auditDir).sort();
    const before = auditFiles.map((f) => sha256(readFileSync(join(s.auditDir, f), 'utf8')));
    assert.ok(auditFiles.every((f) => /\.jsonl$|^chains\.registry$/.test(f)), `only audit segments and the chain registry in the audit directory: ${auditFiles.join(', ')}`);
    const logFiles = readdirSync(logDir);
    assert.ok(logFiles.length >= 1 && logFiles.every((f) => /^ops\.\d+\.log$/.test(f)), `only log files in the log directory: ${logFiles.join(', ')}`);
    const logLines = logFiles.flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n').filter((l) => l !== ''));
    assert.ok(logLines.every((l) => !l.includes('"prev"') && !l.includes('"hash"')), 'no audit record in the log');
    assert.equal(fixture.readOperations(s.auditDir).length, 21, 'every audited operation in the trail, whatever the log rotation deleted');

    rmSync(logDir, { recursive: true, force: true }); // the everyday log purge
    assert.deepEqual(readdirSync(s.auditDir).sort(), auditFiles);
    assert.deepEqual(auditFiles.map((f) => sha256(readFileSync(join(s.auditDir, f), 'utf8'))), before);
    assert.equal(verifyAuditTrail(s.auditDir).status, 'ok');
  });
});

const operation = (n: number): AuditOperation => auditOperation(n);
