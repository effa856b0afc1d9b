/*
 * The audit trail when the disk will not take it: a full disk (through the file-system seam, and a
 * real one on a tiny tmpfs where this machine can mount one), a permission denied (a read-only
 * directory; through the seam when running as root, where chmod denies nothing), a removed
 * directory — each under both failure policies — plus a torn tail left by a dead writer, and the
 * durability modes (fsync per record, per interval, at shutdown).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import {
  AppendOnlyFileSink,
  AuditSpanProcessor,
  canonicalJson,
  verifyAuditTrail,
  type AppendOnlyFileSinkOptions,
  type AuditFailurePolicy,
  type AuditFileSystem,
  type AuditOperation,
} from '../src/audit';
import { recordHash } from '../src/audit/record';
import { auditOperation, auditScenario, auditSessions, auditTempDirs, captureDiag, type AuditSession } from './helpers/audit';
import { waitFor } from './helpers/otel';

const tempDir = auditTempDirs('mcp-audit-fail-');
const diagMessages = captureDiag();
const sessions = auditSessions(tempDir);
const instrumentation = sessions.instrumentation;
const fixture = auditScenario;

/* eslint-disable @typescript-eslint/no-explicit-any */
function systemError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const messages: Record<string, string> = { ENOSPC: 'no space left on device', EACCES: 'permission denied' };
  return Object.assign(new Error(`${code}: ${messages[code] ?? code}, ${syscall}${path !== undefined ? ` '${path}'` : ''}`), { code, syscall, path });
}

/**
 * The sink's documented test seam: real file operations, except that while `full` writes fail with
 * ENOSPC (the first one after `full` is set writes half its bytes first, as a real full disk does),
 * and while `denied` creating a file fails with EACCES (as in a read-only directory).
 */
class FaultyFileSystem {
  full = false;
  denied = false;
  private partial = false;
  fsyncs = 0;
  readonly fs: Partial<AuditFileSystem> = {
    writeSync: (fd, buffer, offset, length) => {
      if (this.full) {
        if (this.partial && length > 1) {
          this.partial = false;
          return fs.writeSync(fd, buffer, offset, Math.floor(length / 2));
        }
        throw systemError('ENOSPC', 'write');
      }
      return fs.writeSync(fd, buffer, offset, length);
    },
    openSync: (path, flags, mode) => {
      if (this.denied && flags.includes('x')) throw systemError('EACCES', 'open', path);
      return fs.openSync(path, flags, mode);
    },
    fsyncSync: (fd) => {
      this.fsyncs += 1;
      fs.fsyncSync(fd);
    },
  };
  fill(): void {
    this.full = true;
    this.partial = true;
  }
}

function startSession(policy: AuditFailurePolicy, file: AppendOnlyFileSinkOptions): Promise<AuditSession> {
  return sessions.start({ audit: { failurePolicy: policy, file: { retryIntervalMs: 0, ...file } } });
}

const REFUSED = 'The audit trail cannot be written; the request is refused';
function isRefusal(error: any): boolean {
  return error?.code === -32603 && error.message === sessions.mcp.expect.clientErrorMessage(-32603, REFUSED);
}

/** `op` records as `method[:text] outcome` (text from the argument digest, mapped back). */
function summary(directory: string, texts: string[]): string[] {
  const byDigest = new Map(texts.map((t) => [createHash('sha256').update(JSON.stringify({ text: t })).digest('hex'), t]));
  return fixture.readOperations(directory).map((o: any) => {
    const text = o.tool === 'note' ? `:${byDigest.get(o.args?.sha256) ?? '?'}` : '';
    return `${o.method}${text} ${o.outcome}`;
  });
}

function types(directory: string): string[] {
  return fixture.readTrail(directory).records.map((r: any) => r.type ?? 'torn');
}

function outageOf(directory: string): any {
  const outages = fixture.readTrail(directory).records.filter((r: any) => r.type === 'outage');
  assert.equal(outages.length, 1, 'one outage recorded');
  const { error, queued, dropped } = outages[0];
  return { error, queued, dropped };
}

describe('a full disk', () => {
  for (const policy of ['continue', 'reject'] as const) {
    test(`through the seam, policy ${policy}`, async () => {
      const faulty = new FaultyFileSystem();
      const dir = join(tempDir(), 'audit');
      const s = await startSession(policy, { directory: dir, name: 'full', fs: faulty.fs });
      assert.equal(await s.note('a'), 'noted a');
      faulty.fill();
      // The record of the request during which the disk fills cannot be refused any more: it is kept.
      assert.equal(await s.note('b'), 'noted b');
      assert.equal(s.sink.healthy, false);
      assert.equal(diagMessages.filter((m) => m.startsWith('error:') && m.includes('cannot write the audit trail') && m.includes('ENOSPC')).length, 1);
      if (policy === 'continue') {
        assert.equal(await s.note('c'), 'noted c');
      } else {
        await assert.rejects(s.note('c'), isRefusal);
      }
      assert.equal((await s.client.listTools()).tools.length, 2, 'methods not audited are served either way');
      faulty.full = false;
      assert.equal(await s.note('d'), 'noted d');
      assert.equal(s.sink.healthy, true);
      await s.close();

      assert.deepEqual(s.handled, policy === 'continue' ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'd'], 'a refused request never reaches its handler');
      const texts = ['a', 'b', 'c', 'd'];
      assert.deepEqual(
        summary(dir, texts),
        ['initialize ok', 'tools/call:a ok', 'tools/call:b ok', `tools/call:c ${policy === 'continue' ? 'ok' : 'refused'}`, 'tools/call:d ok'],
      );
      assert.deepEqual(types(dir), ['segment', 'op', 'op', 'torn', 'seal', 'outage', 'op', 'op', 'op', 'close']);
      // Waiting when the disk came back: b, c and d (continue: d's own record finds it back) / b and
      // the refusal of c (reject: the request d finds it back before its handler runs).
      assert.deepEqual(outageOf(dir), { error: 'ENOSPC', queued: policy === 'continue' ? 3 : 2, dropped: 0 });
      const refused = fixture.readOperations(dir)[3];
      if (policy === 'reject') assert.deepEqual(refused.error, { type: '-32603', code: -32603 });
      const verified = verifyAuditTrail(dir);
      assert.equal(verified.status, 'ok');
      assert.equal(verified.chains[0]!.seals, 1, 'the half-written record is sealed, not overwritten');
    });
  }

  test('a real full disk: a tiny tmpfs', async (t: TestContext) => {
    const mount = tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k,mode=0700', 'tmpfs', mount], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || '').trim()}); the seam tests cover ENOSPC`);
      return;
    }
    try {
      for (const policy of ['continue', 'reject'] as const) {
        const dir = join(mount, policy);
        const s = await startSession(policy, { directory: dir, name: 'tmpfs' });
        const texts: string[] = [];
        const note = (text: string) => {
          texts.push(text);
          return s.note(text);
        };
        await note('before');
        const filler = join(mount, 'filler');
        const fd = fs.openSync(filler, 'w');
        try {
          const block = Buffer.alloc(4096, 120);
          for (;;) fs.writeSync(fd, block);
        } catch (error) {
          assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
        } finally {
          fs.closeSync(fd);
        }
        for (let i = 0; i < 200 && s.sink.healthy; i++) await note(`filling ${i}`);
        assert.equal(s.sink.healthy, false, 'the disk filled up');
        assert.ok(diagMessages.some((m) => m.includes('cannot write the audit trail') && m.includes('ENOSPC')));
        if (policy === 'reject') await assert.rejects(note('while full'), isRefusal);
        else assert.equal(await note('while full'), 'noted while full');
        unlinkSync(filler);
        assert.equal(await note('after'), 'noted after');
        assert.equal(s.sink.healthy, true);
        await s.close();
        const verified = verifyAuditTrail(dir);
        assert.equal(verified.status, 'ok', JSON.stringify(verified.problem));
        assert.equal(outageOf(dir).error, 'ENOSPC');
        const expected = texts.map((text) => `tools/call:${text} ${policy === 'reject' && text === 'while full' ? 'refused' : 'ok'}`);
        assert.deepEqual(summary(dir, texts), ['initialize ok', ...expected], 'every operation in the trail, in order');
        diagMessages.length = 0;
      }
    } finally {
      const unmounted = spawnSync('umount', [mount], { encoding: 'utf8' });
      assert.equal(unmounted.status, 0, unmounted.stderr);
    }
  });
});

describe('permission denied', () => {
  /** Makes `dir` read-only; returns the seam to use instead when that denies nothing (root). */
  function denyWrites(t: TestContext, dir: string, faulty: FaultyFileSystem): void {
    chmodSync(dir, 0o500);
    try {
      writeFileSync(join(dir, '.probe'), '');
      unlinkSync(join(dir, '.probe'));
      t.diagnostic('running as root: a read-only directory denies nothing; EACCES simulated through the seam');
      faulty.denied = true;
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'EACCES');
    }
  }
  function allowWrites(dir: string, faulty: FaultyFileSystem): void {
    chmodSync(dir, 0o700);
    faulty.denied = false;
  }

  for (const policy of ['continue', 'reject'] as const) {
    test(`a directory made read-only while running (a new segment cannot be created), policy ${policy}`, async (t) => {
      const faulty = new FaultyFileSystem();
      const dir = join(tempDir(), 'audit');
      const s = await startSession(policy, { directory: dir, name: 'ro', fs: faulty.fs, maxSegmentBytes: 1 });
      assert.equal(await s.note('a'), 'noted a');
      denyWrites(t, dir, faulty);
      assert.equal(await s.note('b'), 'noted b');
      assert.equal(s.sink.healthy, false);
      assert.ok(diagMessages.some((m) => m.includes('cannot write the audit trail') && m.includes('EACCES')));
      if (policy === 'continue') assert.equal(await s.note('c'), 'noted c');
      else await assert.rejects(s.note('c'), isRefusal);
      allowWrites(dir, faulty);
      assert.equal(await s.note('d'), 'noted d');
      await s.close();
      assert.deepEqual(summary(dir, ['a', 'b', 'c', 'd']), [
        'initialize ok',
        'tools/call:a ok',
        'tools/call:b ok',
        `tools/call:c ${policy === 'continue' ? 'ok' : 'refused'}`,
        'tools/call:d ok',
      ]);
      assert.deepEqual(outageOf(dir), { error: 'EACCES', queued: policy === 'continue' ? 3 : 2, dropped: 0 });
      assert.equal(verifyAuditTrail(dir).status, 'ok');
    });

    test(`a read-only directory from the start, policy ${policy}`, async (t) => {
      const faulty = new FaultyFileSystem();
      const dir = join(tempDir(), 'audit');
      mkdirSync(dir, { mode: 0o700 });
      denyWrites(t, dir, faulty);
      if (policy === 'reject') {
        // Fail closed from the first request: even initialize is refused.
        const { Client, InMemoryTransport } = sessions.mcp as any;
        const processor = new AuditSpanProcessor({ failurePolicy: policy, file: { directory: dir, name: 'ro', fs: faulty.fs, retryIntervalMs: 0 } });
        const provider = new sdkTrace.TracerProvider({ spanProcessors: [processor] });
        instrumentation.setTracerProvider(provider);
        const server = fixture.createAuditedServer(sessions.mcp, []);
        const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
        await server.connect(serverTransport);
        await assert.rejects(new Client(fixture.AUDIT_CLIENT_INFO).connect(clientTransport), isRefusal);
        allowWrites(dir, faulty);
        const [again, againServer] = InMemoryTransport.createLinkedPair();
        await server.close();
        await server.connect(againServer);
        const client = new Client(fixture.AUDIT_CLIENT_INFO);
        await client.connect(again);
        await client.close();
        await server.close();
        await provider.shutdown();
        assert.deepEqual(summary(dir, []), ['initialize refused', 'initialize ok']);
      } else {
        const s = await startSession(policy, { directory: dir, name: 'ro', fs: faulty.fs });
        assert.equal(await s.note('a'), 'noted a');
        assert.equal(s.sink.healthy, false);
        allowWrites(dir, faulty);
        assert.equal(await s.note('b'), 'noted b');
        await s.close();
        assert.deepEqual(summary(dir, ['a', 'b']), ['initialize ok', 'tools/call:a ok', 'tools/call:b ok']);
      }
      assert.deepEqual(types(dir).slice(0, 2), ['segment', 'outage'], 'the chain starts by saying since when it could not be written');
      assert.equal(outageOf(dir).error, 'EACCES');
      assert.equal(verifyAuditTrail(dir).status, 'ok');
    });
  }
});

describe('a removed directory', () => {
  test('recreated at the next record; the trail says what is missing', async () => {
    const dir = join(tempDir(), 'audit');
    const s = await startSession('continue', { directory: dir, name: 'gone' });
    assert.equal(await s.note('a'), 'noted a');
    const before = s.sink.head();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await s.note('b'), 'noted b');
    assert.equal(s.sink.healthy, true);
    assert.ok(diagMessages.some((m) => m.startsWith('error:') && m.includes('gone-000001.jsonl was removed')));
    await s.close();
    const { segments } = fixture.readTrail(dir);
    assert.deepEqual(segments.map((x: any) => [x.name, x.records.map((r: any) => r.type).join(',')]), [['gone-000002.jsonl', 'segment,op,close']]);
    const header = segments[0].header;
    assert.deepEqual(
      { segment: header.segment, reason: header.reason, prevFile: header.prevFile, prev: header.prev, seq: header.seq },
      { segment: 1, reason: 'recreated', prevFile: 'gone-000001.jsonl', prev: before.hash, seq: before.seq + 1 },
    );
    assert.equal(statMode(dir), 0o700);
    const verified = verifyAuditTrail(dir);
    assert.equal(verified.status, 'broken');
    assert.equal(
      verified.problem!.message,
      `the chain's first 1 segment(s) are missing: this file is segment 1 and no earlier segment of chain ${header.chain} is in the directory (removed?)`,
    );
  });

  test('replaced by a file (cannot be recreated), policy reject: refused until it can', async () => {
    const dir = join(tempDir(), 'audit');
    const s = await startSession('reject', { directory: dir, name: 'gone' });
    assert.equal(await s.note('a'), 'noted a');
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    assert.equal(await s.note('b'), 'noted b');
    assert.equal(s.sink.healthy, false);
    await assert.rejects(s.note('c'), isRefusal);
    unlinkSync(dir);
    assert.equal(await s.note('d'), 'noted d');
    await s.close();
    assert.deepEqual(s.handled, ['a', 'b', 'd']);
    assert.deepEqual(summary(dir, ['b', 'c', 'd']), ['tools/call:b ok', 'tools/call:c refused', 'tools/call:d ok']);
    assert.deepEqual(outageOf(dir), { error: 'EEXIST', queued: 2, dropped: 0 });
  });
});

function statMode(path: string): number {
  return fs.statSync(path).mode & 0o777;
}

const operation = (n: number): AuditOperation => auditOperation(n);

describe('recovery and durability', () => {
  test('a torn tail left by a dead writer is reported, sealed (never overwritten) and the chain continues', async () => {
    const dir = join(tempDir(), 'audit');
    const first = new AppendOnlyFileSink({ directory: dir, name: 'svc' });
    first.append(operation(1));
    first.append(operation(2));
    await first.close();
    // The writer died mid-record (a power loss can tear a write), leaving its lock behind.
    const torn = '{"actor":{"clientId":"c"},"durationMs":3,"ha';
    appendFileSync(join(dir, 'svc-000001.jsonl'), torn);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'svc.lock'), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: '2020-01-01T00:00:00.000Z' }));
    const before = readFileSync(join(dir, 'svc-000001.jsonl'));

    const second = new AppendOnlyFileSink({ directory: dir, name: 'svc' });
    second.append(operation(3));
    await second.close();
    assert.ok(diagMessages.some((m) => m.startsWith('warn:') && m.includes('not a whole record')));
    const after = readFileSync(join(dir, 'svc-000001.jsonl'));
    assert.deepEqual(after.subarray(0, before.length), before, 'nothing written is ever rewritten');
    const { segments } = fixture.readTrail(dir);
    assert.deepEqual(
      segments.map((x: any) => [x.name, x.records.map((r: any) => r.type ?? 'torn').join(',')]),
      [
        ['svc-000001.jsonl', 'segment,op,op,close,torn,seal,rotate'],
        ['svc-000002.jsonl', 'segment,op,close'],
      ],
    );
    const seal = segments[0].records[5];
    assert.deepEqual(seal.torn, {
      offset: before.length - Buffer.byteLength(torn),
      length: Buffer.byteLength(torn),
      sha256: createHash('sha256').update(torn).digest('hex'),
    });
    const verified = verifyAuditTrail(dir);
    assert.equal(verified.status, 'ok');
    assert.equal(verified.chains.length, 1);
  });

  for (const leftover of ['empty', 'a torn header'] as const) {
    test(`a rotation cut short by a crash (the next segment ${leftover}): the next writer creates the promised segment`, async () => {
      const dir = join(tempDir(), 'audit');
      const first = new AppendOnlyFileSink({ directory: dir, name: 'r' });
      first.append(operation(1));
      await first.close();
      // What a writer leaves when it dies in a rotation: the next file created, the rotate record
      // naming it written, and nothing (or, after a power loss, part of a header) in the new file.
      const content = readFileSync(join(dir, 'r-000001.jsonl'), 'utf8').split('\n');
      const close = JSON.parse(content[content.length - 2]!);
      const rotate: Record<string, unknown> = { next: 'r-000002.jsonl', reason: 'size', ts: close.ts, type: 'rotate', v: 1, seq: close.seq + 1, prev: close.hash };
      appendFileSync(join(dir, 'r-000001.jsonl'), `${canonicalJson({ ...rotate, hash: recordHash(rotate, undefined) })}\n`);
      const torn = leftover === 'empty' ? '' : '{"alg":"sha256","chain":"';
      writeFileSync(join(dir, 'r-000002.jsonl'), torn, { mode: 0o600 });
      const interrupted = verifyAuditTrail(dir);
      assert.equal(interrupted.status, 'broken');
      if (leftover === 'empty') {
        assert.match(interrupted.problem!.message, /ends with a rotate record naming r-000002\.jsonl, which is empty: its writer crashed during a rotation/);
        assert.equal(verifyAuditTrail(dir, { allowOpen: true }).status, 'ok');
      }

      const second = new AppendOnlyFileSink({ directory: dir, name: 'r' });
      second.append(operation(2));
      await second.close();
      const { segments } = fixture.readTrail(dir);
      assert.deepEqual(
        segments.map((x: any) => [x.name, x.records.map((r: any) => r.type ?? 'torn').join(',')]),
        [
          ['r-000001.jsonl', 'segment,op,close,rotate'],
          ['r-000002.jsonl', leftover === 'empty' ? 'segment,op,close' : 'torn,seal,segment,op,close'],
        ],
      );
      assert.deepEqual([segments[1].header.reason, segments[1].header.prevFile], ['restart', 'r-000001.jsonl']);
      const verified = verifyAuditTrail(dir);
      assert.equal(verified.status, 'ok', JSON.stringify(verified.problem));
      assert.equal(verified.chains[0]!.seals, leftover === 'empty' ? 0 : 1);
    });
  }

  test('a default-named writer continues the chain its dead predecessor left in the directory', async () => {
    const dir = join(tempDir(), 'audit');
    const first = new AppendOnlyFileSink({ directory: dir });
    first.append(operation(1));
    await first.close();
    const second = new AppendOnlyFileSink({ directory: dir });
    second.append(operation(2));
    await second.close();
    const { segments } = fixture.readTrail(dir);
    assert.equal(segments.length, 2);
    assert.deepEqual(segments.map((x: any) => x.name.replace(/-\d{6}\.jsonl$/, '')), [first.name, second.name]);
    assert.deepEqual(segments[1].header.prevFile, segments[0].name);
    assert.equal(segments[1].header.reason, 'restart');
    assert.equal(segments[0].records[segments[0].records.length - 1].next, segments[1].name);
    const verified = verifyAuditTrail(dir);
    assert.equal(verified.status, 'ok');
    assert.equal(verified.chains.length, 1, 'one chain across both processes');
  });

  test('fsync after every record by default; with an interval, records are written at once and synced later; all synced at shutdown', async () => {
    const perRecord = new FaultyFileSystem();
    const a = new AppendOnlyFileSink({ directory: join(tempDir(), 'a'), name: 'p', fs: perRecord.fs });
    const afterStart = perRecord.fsyncs;
    a.append(operation(1));
    a.append(operation(2));
    assert.equal(perRecord.fsyncs - afterStart, 2, 'one fsync per record, before append returns');
    await a.close();

    const interval = new FaultyFileSystem();
    const dir = join(tempDir(), 'b');
    const b = new AppendOnlyFileSink({ directory: dir, name: 'i', fs: interval.fs, durability: { intervalMs: 20 } });
    const base = interval.fsyncs;
    b.append(operation(1));
    assert.equal(interval.fsyncs, base, 'not synced by append');
    assert.equal(fixture.readOperations(dir).length, 1, 'but written: a crash of the process loses nothing');
    await waitFor(() => interval.fsyncs > base, 5000, 'the interval fsync');
    b.append(operation(2));
    const beforeClose = interval.fsyncs;
    await b.close();
    assert.ok(interval.fsyncs > beforeClose, 'close syncs');
    assert.deepEqual(types(dir), ['segment', 'op', 'op', 'close']);
  });
});
