/*
 * `mcp-otel audit verify` and the canonical JSON the chain is hashed over: every kind of tampering is
 * found and located (file, line, what), HMAC chains need their key, and the CLI's exit statuses.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diag } from '@opentelemetry/api';
import { AppendOnlyFileSink, canonicalJson, verifyAuditTrail, type AuditOperation, type AuditVerifyResult } from '../src/audit';
import { canonicalSplit, joinSplit, joinSplitWith } from '../src/audit/canonical';
import { keyIdOf, recordHash } from '../src/audit/record';
import { run } from '../src/cli/audit';
import { auditOperation, auditTempDirs, segmentLines, segmentRecord } from './helpers/audit';
import { REPO_ROOT } from './helpers/sdk';

const tempDir = auditTempDirs('mcp-audit-verify-');

function operation(n: number): AuditOperation {
  const second = `2025-03-01T12:00:${String(n % 60).padStart(2, '0')}.000Z`;
  return auditOperation(n, { ts: second, start: second, durationMs: 1.5, actor: { clientId: 'client-42', scopes: ['tools:call'] }, args: { sha256: 'b'.repeat(64) } });
}

async function writeTrail(dir: string, options: { name?: string; hmacKey?: string; ops?: number } = {}): Promise<void> {
  diag.disable();
  const sink = new AppendOnlyFileSink({ directory: dir, name: options.name ?? 'trail', maxSegmentBytes: 3000, hmacKey: options.hmacKey });
  for (let i = 1; i <= (options.ops ?? 15); i++) sink.append(operation(i));
  await sink.close();
}

const seg = (n: number) => `trail-${String(n).padStart(6, '0')}.jsonl`;
const lines = segmentLines;
const record = segmentRecord;
function writeLines(file: string, content: string[]): void {
  writeFileSync(file, content.map((l) => `${l}\n`).join(''));
}

function broken(result: AuditVerifyResult): { file: string; line: number; message: string } {
  assert.equal(result.status, 'broken', `expected broken, got ${result.status} ${result.usage ?? ''}`);
  const { file, line, message } = result.problem!;
  return { file: file.slice(file.lastIndexOf('/') + 1), line, message };
}

let reference: string;
let segments: number;
let chain: string;
before(async () => {
  reference = tempDir();
  await writeTrail(reference);
  segments = readdirSync(reference).filter((f) => f.endsWith('.jsonl')).length;
  chain = record(join(reference, seg(1)), 1).chain;
});

/** A fresh copy of the reference trail to tamper with. */
function copy(): string {
  const dir = join(tempDir(), 'trail');
  cpSync(reference, dir, { recursive: true });
  return dir;
}

describe('canonical JSON', () => {
  test('sorted keys, no whitespace, JSON.stringify scalars', () => {
    assert.equal(canonicalJson({ b: 1, a: [3, { d: true, c: null }], é: 'x', B: -0 }), '{"B":0,"a":[3,{"c":null,"d":true}],"b":1,"é":"x"}');
    assert.equal(canonicalJson({ z: undefined, f: () => 1, n: [undefined, NaN, Infinity] }), '{"n":[null,null,null]}');
    assert.equal(canonicalJson([1e21, 1e-7, 0.1, 123456789012345680000]), '[1e+21,1e-7,0.1,123456789012345680000]');
    assert.equal(canonicalJson('line\nbreak "quoted" \u0001 \ud800'), '"line\\nbreak \\"quoted\\" \\u0001 \\ud800"');
    assert.equal(canonicalJson({ '\u00e9': 1, e: 2, '\ud83d\ude00': 3, '\uff01': 4 }), '{"e":2,"é":1,"😀":3,"！":4}', 'UTF-16 code-unit order');
    assert.equal(canonicalJson({ when: new Date('2025-01-02T03:04:05.006Z') }), '{"when":"2025-01-02T03:04:05.006Z"}');
    const text = canonicalJson({ x: [{ b: 2, a: 1 }], y: 'ü', z: 1.5 });
    assert.equal(canonicalJson(JSON.parse(text)), text, 'idempotent over a JSON round trip');
  });

  test('throws for what JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /cyclic/);
    assert.throws(() => canonicalJson({ n: 1n }), /BigInt/);
    assert.throws(() => canonicalJson(undefined), /not a JSON value/);
  });

  test('split: one writing gives the object and the object plus a member, in sorted place', () => {
    const objects: Array<Record<string, unknown>> = [
      {},
      { a: 1 },
      { z: 1 },
      { a: 1, z: [2, { y: undefined, x: 'é' }] },
      { hasg: 1, hash2: 2, gone: undefined },
      { v: 1, seq: 7, prev: '0'.repeat(64), ts: '2026-01-01T00:00:00.000Z', type: 'op', actor: { session: 's' } },
    ];
    for (const object of objects) {
      const split = canonicalSplit(object, undefined, 'hash');
      assert.equal(joinSplit(split), canonicalJson(object));
      assert.equal(joinSplitWith(split, 'hash', '"h"'), canonicalJson({ ...object, hash: 'h' }), JSON.stringify(object));
    }
    const cyclic: Record<string, unknown> = { a: {} };
    (cyclic.a as Record<string, unknown>).back = cyclic;
    assert.throws(() => canonicalSplit(cyclic, undefined, 'hash'), /cyclic/);
  });

  test('the same text as JSON.stringify of a key-sorted copy, for any JSON value', () => {
    // Deterministic pseudo-random values: keys and strings drawn from characters that need escaping,
    // surrogates (paired and lone), non-ASCII, and texts either side of the scanned length.
    let seed = 12345;
    const next = (n: number): number => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const alphabet = ['a', 'Z', '0', '9', '"', '\\', '\n', '\u0001', '\u001f', ' ', 'é', '\u2028', '\ud83d\ude00', '\ud800', '\udfff', '\u007f', '~'];
    const text = (): string => {
      const length = next(4) === 0 ? 250 + next(12) : next(12);
      let out = '';
      while (out.length < length) out += alphabet[next(alphabet.length)]!;
      return out;
    };
    const value = (depth: number): unknown => {
      switch (next(depth > 2 ? 5 : 7)) {
        case 0:
          return text();
        case 1:
          return next(1000) - 500 + next(100) / 8;
        case 2:
          return next(2) === 0;
        case 3:
          return null;
        case 4:
          return String(next(20));
        case 5:
          return Array.from({ length: next(4) }, () => value(depth + 1));
        default: {
          const object: Record<string, unknown> = {};
          for (let k = next(6); k > 0; k--) object[next(3) === 0 ? String(next(12)) : text()] = value(depth + 1);
          return object;
        }
      }
    };
    const sortedCopy = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortedCopy);
      if (v === null || typeof v !== 'object') return v;
      // A Map keeps insertion order for every key, integer-like ones included (an object would not).
      return new Map(Object.keys(v).sort().map((k) => [k, sortedCopy((v as Record<string, unknown>)[k])]));
    };
    const stringify = (v: unknown): string => {
      if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}:${stringify(x)}`).join(',')}}`;
      if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
      return JSON.stringify(v);
    };
    for (let n = 0; n < 2000; n++) {
      const v = value(0);
      assert.equal(canonicalJson(v), stringify(sortedCopy(v)), JSON.stringify(v));
    }
  });
});

describe('verify', () => {
  test('an intact trail: every record and segment counted', () => {
    const result = verifyAuditTrail(reference);
    assert.equal(result.status, 'ok');
    assert.ok(segments >= 3, `${segments} segments`);
    assert.equal(result.segments, segments);
    // 15 operations, one header per segment, one rotate per segment but the last, one close.
    assert.equal(result.records, 15 + segments + (segments - 1) + 1);
    assert.equal(result.chains.length, 1);
    assert.equal(result.chains[0]!.operations, 15);
    assert.equal(result.chains[0]!.closed, true);
    assert.equal(verifyAuditTrail(join(reference, seg(2))).status, 'ok', 'a segment alone is checked in itself');
  });

  test('an edited field: the record whose hash no longer matches', () => {
    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    const target = JSON.parse(content[2]!);
    content[2] = content[2]!.replace('"tool":"note"', '"tool":"wipe"');
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(2),
      line: 3,
      message: `seq ${target.seq}: its hash does not match its contents (the record was edited)`,
    });
  });

  test('an edited record whose hash was recomputed: the next record no longer links to it', () => {
    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    const { hash, ...rest } = JSON.parse(content[2]!);
    void hash;
    rest.tool = 'wipe';
    content[2] = canonicalJson({ ...rest, hash: recordHash(rest, undefined) });
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(2),
      line: 4,
      message: `seq ${rest.seq + 1}: prev does not match the hash of the record before it (a record before it was replaced or removed)`,
    });
  });

  test('a change in spacing or key order is an edit too', () => {
    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    content[2] = content[2]!.replace('{"', '{ "');
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(2),
      line: 3,
      message: 'the line is not in canonical form (it was edited: spacing, key order, number format or a duplicate key)',
    });
  });

  test('a deleted line', () => {
    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    const removed = JSON.parse(content[2]!).seq;
    content.splice(2, 1);
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(2),
      line: 3,
      message: `seq ${removed + 1} where seq ${removed} was expected: 1 record is missing before it (deleted)`,
    });
  });

  test('two swapped lines', () => {
    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    const first = JSON.parse(content[2]!).seq;
    [content[2], content[3]] = [content[3]!, content[2]!];
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(2),
      line: 3,
      message: `seq ${first + 1} where seq ${first} was expected: records are out of order (seq ${first} is at line 4)`,
    });
  });

  test('a truncated file: cut mid-record, cut at a line in a middle segment, cut at a line at the end', () => {
    const last = seg(segments);
    const cutMid = copy();
    const lastLines = lines(join(cutMid, last));
    truncateSync(join(cutMid, last), readFileSync(join(cutMid, last)).length - 5);
    assert.deepEqual(broken(verifyAuditTrail(cutMid)), {
      file: last,
      line: lastLines.length,
      message: 'the last line is cut short (no newline) and not sealed: the file was truncated, or its writer crashed mid-record and has not restarted',
    });

    const cutMiddle = copy();
    const middle = lines(join(cutMiddle, seg(2)));
    const kept = middle.slice(0, -2);
    writeLines(join(cutMiddle, seg(2)), kept);
    assert.deepEqual(broken(verifyAuditTrail(cutMiddle)), {
      file: seg(2),
      line: kept.length,
      message: `the segment ends at seq ${JSON.parse(kept[kept.length - 1]!).seq} without a rotate record, but the chain continues in ${seg(3)}: records at its end were removed (truncated)`,
    });

    const cutEnd = copy();
    const endLines = lines(join(cutEnd, last)).slice(0, -1);
    writeLines(join(cutEnd, last), endLines);
    const endSeq = JSON.parse(endLines[endLines.length - 1]!).seq;
    assert.deepEqual(broken(verifyAuditTrail(cutEnd)), {
      file: last,
      line: endLines.length,
      message:
        `the chain ends at seq ${endSeq} without a close record: its writer is still running, or crashed and has not restarted, ` +
        'or records at its end were removed (truncated). With --allow-open an open end is accepted.',
    });
    // What cannot be told apart: a writer still running (or crashed) from a tail cut at a record boundary.
    const open = verifyAuditTrail(cutEnd, { allowOpen: true });
    assert.equal(open.status, 'ok');
    assert.equal(open.chains[0]!.closed, false);
  });

  test('a final newline removed (truncate -s -1): the last record of a sealed or an open segment is named', async () => {
    const lastNewline = (dir: string, file: string) => {
      const path = join(dir, file);
      const content = lines(path);
      truncateSync(path, readFileSync(path).length - 1);
      return { line: content.length, seq: JSON.parse(content[content.length - 1]!).seq, byte: readFileSync(path).length };
    };
    // The last segment (ends with its close record) and a middle one (ends with its rotate record).
    for (const file of [seg(segments), seg(2)]) {
      const dir = copy();
      const cut = lastNewline(dir, file);
      const expected = { file, line: cut.line, message: `seq ${cut.seq}: the last record lacks its newline (byte ${cut.byte}): the file was cut, or its end edited` };
      assert.deepEqual(broken(verifyAuditTrail(dir)), expected);
      assert.deepEqual(broken(verifyAuditTrail(dir, { allowOpen: true })), expected, 'an open end does not excuse it');
      assert.deepEqual(broken(verifyAuditTrail(join(dir, file))), expected, 'the file alone');
    }
    // An open segment: its writer is running.
    const dir = tempDir();
    diag.disable();
    const sink = new AppendOnlyFileSink({ directory: dir, name: 'trail' });
    sink.append(operation(1));
    sink.append(operation(2));
    assert.equal(verifyAuditTrail(dir, { allowOpen: true }).status, 'ok');
    const cut = lastNewline(dir, seg(1));
    assert.deepEqual(broken(verifyAuditTrail(dir, { allowOpen: true })), {
      file: seg(1),
      line: cut.line,
      message: `seq ${cut.seq}: the last record lacks its newline (byte ${cut.byte}): the file was cut, or its end edited`,
    });
    await sink.close();
  });

  test('two chains in one directory: each reported (name, records, head); one removed whole is named from the registry', async () => {
    const dir = tempDir();
    await writeTrail(dir, { name: 'alpha', ops: 2 });
    await writeTrail(dir, { name: 'beta', ops: 3 });
    const registry = readFileSync(join(dir, 'chains.registry'), 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l));
    assert.deepEqual(
      registry.map((e) => [e.name, e.file, e.v]),
      [
        ['alpha', 'alpha-000001.jsonl', 1],
        ['beta', 'beta-000001.jsonl', 1],
      ],
    );
    const [alpha, beta] = registry.map((e) => e.chain);
    const whole = verifyAuditTrail(dir);
    assert.equal(whole.status, 'ok');
    assert.deepEqual(whole.warnings, []);
    const lastOf = (file: string) => record(join(dir, file), lines(join(dir, file)).length);
    assert.deepEqual(
      whole.chains.map((c) => [c.chain, c.name, c.records, c.lastSeq, c.lastHash]),
      [
        [alpha, 'alpha', 4, 4, lastOf('alpha-000001.jsonl').hash],
        [beta, 'beta', 5, 5, lastOf('beta-000001.jsonl').hash],
      ],
    );

    for (const file of readdirSync(dir).filter((f) => f.startsWith('beta-'))) unlinkSync(join(dir, file));
    const removed = verifyAuditTrail(dir);
    assert.equal(removed.status, 'ok', 'what is left is intact');
    assert.deepEqual(removed.chains.map((c) => c.name), ['alpha']);
    assert.deepEqual(removed.warnings, [
      {
        file: join(dir, 'chains.registry'),
        line: 2,
        message: `the chain ${beta} (beta, started ${registry[1].ts} in beta-000001.jsonl) is missing: none of its segments is in the directory (removed whole, or archived elsewhere)`,
      },
    ]);

    // The registry removed too: said, since a chain removed whole can no longer be noticed.
    unlinkSync(join(dir, 'chains.registry'));
    assert.deepEqual(verifyAuditTrail(dir).warnings.map((w) => w.message), [
      'no chain registry (chains.registry) in the directory: a chain removed whole cannot be noticed (trails written before the registry have none)',
    ]);
  });

  test('a removed segment: the first, one in the middle, the last, all', () => {
    const middle = copy();
    unlinkSync(join(middle, seg(2)));
    assert.deepEqual(broken(verifyAuditTrail(middle)), {
      file: seg(1),
      line: lines(join(middle, seg(1))).length,
      message: `the rotate record names the next segment ${seg(2)}, which is missing (removed)`,
    });

    const last = copy();
    unlinkSync(join(last, seg(segments)));
    assert.deepEqual(broken(verifyAuditTrail(last)), {
      file: seg(segments - 1),
      line: lines(join(last, seg(segments - 1))).length,
      message: `the rotate record names the next segment ${seg(segments)}, which is missing (the last segment was removed)`,
    });

    const first = copy();
    unlinkSync(join(first, seg(1)));
    assert.deepEqual(broken(verifyAuditTrail(first)), {
      file: seg(2),
      line: 1,
      message: `the chain's first 1 segment(s) are missing: this file is segment 1 and no earlier segment of chain ${chain} is in the directory (removed?)`,
    });

    const all = copy();
    for (let i = 1; i <= segments; i++) unlinkSync(join(all, seg(i)));
    assert.deepEqual(broken(verifyAuditTrail(all)), { file: 'trail', line: 0, message: 'no audit segment (*.jsonl with records) in the directory' });
  });

  test('a segment copied or renamed', () => {
    const dir = copy();
    cpSync(join(dir, seg(2)), join(dir, 'zz-copy.jsonl'));
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: 'zz-copy.jsonl',
      line: 1,
      message: `a second file with segment 1 of the chain (also ${seg(2)}): copied or replayed`,
    });
    const first = copy();
    cpSync(join(first, seg(2)), join(first, 'aa-copy.jsonl'));
    assert.deepEqual(broken(verifyAuditTrail(first)), {
      file: 'aa-copy.jsonl',
      line: 1,
      message: `a second file with segment 1 of the chain (also ${seg(2)}): copied or replayed`,
    });
    const renamed = copy();
    renameSync(join(renamed, seg(2)), join(renamed, 'renamed.jsonl'));
    assert.deepEqual(broken(verifyAuditTrail(renamed)), {
      file: seg(1),
      line: lines(join(renamed, seg(1))).length,
      message: `the rotate record names the next segment ${seg(2)}, which was renamed to renamed.jsonl`,
    });
  });

  test('a chain rebuilt without a key after cutting its end passes alone, and fails against a head recorded before', () => {
    const dir = copy();
    const last = join(dir, seg(segments));
    const head = record(last, lines(last).length).hash;
    const content = lines(last).slice(0, -3); // two operations and the close record removed
    const end = JSON.parse(content[content.length - 1]!);
    const close = { reason: 'shutdown', ts: end.ts, type: 'close', v: 1, seq: end.seq + 1, prev: end.hash };
    content.push(canonicalJson({ ...close, hash: recordHash(close, undefined) }));
    writeLines(last, content);
    assert.equal(verifyAuditTrail(dir).status, 'ok', 'a plain SHA-256 chain can be rebuilt by whoever can write it');
    assert.deepEqual(broken(verifyAuditTrail(dir, { heads: [head] })), {
      file: 'trail',
      line: 0,
      message: `the head ${head} is not in the trail: records were removed, or the chain rebuilt, after it was recorded`,
    });
    assert.equal(verifyAuditTrail(reference, { heads: [head] }).status, 'ok');
  });

  test('HMAC chains: the right key passes, a wrong key fails, no key is a usage error, a rebuilt record fails', async () => {
    const dir = join(tempDir(), 'keyed');
    await writeTrail(dir, { hmacKey: 'k1-secret' });
    const chainId = record(join(dir, seg(1)), 1).chain;
    assert.equal(record(join(dir, seg(1)), 1).alg, 'hmac-sha256');
    assert.equal(verifyAuditTrail(dir, { key: 'k1-secret' }).status, 'ok');
    assert.deepEqual(broken(verifyAuditTrail(dir, { key: 'k2-wrong' })), {
      file: seg(1),
      line: 1,
      message: `the key does not match this chain (the key given has id ${keyIdOf(Buffer.from('k2-wrong'))}, the chain's is ${keyIdOf(Buffer.from('k1-secret'))})`,
    });
    const none = verifyAuditTrail(dir);
    assert.equal(none.status, 'usage');
    assert.equal(none.usage, `the chain ${chainId} is keyed (HMAC-SHA-256, key id ${keyIdOf(Buffer.from('k1-secret'))}): verify it with --key or --key-file`);

    // Someone without the key edits a record and recomputes its hash the only way they can.
    const file = join(dir, seg(2));
    const content = lines(file);
    const { hash, ...rest } = JSON.parse(content[2]!);
    void hash;
    rest.outcome = 'error';
    content[2] = canonicalJson({ ...rest, hash: recordHash(rest, Buffer.from('guessed-key')) });
    writeLines(file, content);
    assert.deepEqual(broken(verifyAuditTrail(dir, { key: 'k1-secret' })), {
      file: seg(2),
      line: 3,
      message: `seq ${rest.seq}: its hash does not match its contents (the record was edited)`,
    });

    // A chain rebuilt without a key (plain SHA-256) is refused when a key is expected.
    assert.deepEqual(broken(verifyAuditTrail(reference, { key: 'k1-secret' })), {
      file: seg(1),
      line: 1,
      message: 'the chain is not keyed (plain SHA-256) although a key was given: anyone who can write the files could have rebuilt it',
    });
  });

  test('a sealed torn write passes; changing the sealed bytes does not', async () => {
    const dir = join(tempDir(), 'sealed');
    diag.disable();
    const sink = new AppendOnlyFileSink({ directory: dir, name: 'trail' });
    sink.append(operation(1));
    appendFileSync(join(dir, seg(1)), '{"v":1,"seq":3,"ty'); // a write cut short
    sink.append(operation(2));
    await sink.close();
    const content = lines(join(dir, seg(1)));
    assert.equal(content[2], '{"v":1,"seq":3,"ty');
    const seal = JSON.parse(content[3]!);
    assert.equal(seal.type, 'seal');
    assert.deepEqual({ offset: seal.torn.offset, length: seal.torn.length }, { offset: Buffer.byteLength(`${content[0]}\n${content[1]}\n`), length: 18 });
    const ok = verifyAuditTrail(dir);
    assert.equal(ok.status, 'ok');
    assert.equal(ok.chains[0]!.seals, 1);
    assert.equal(ok.chains[0]!.operations, 2);

    content[2] = '{"v":1,"seq":4,"ty';
    writeLines(join(dir, seg(1)), content);
    assert.deepEqual(broken(verifyAuditTrail(dir)), {
      file: seg(1),
      line: 3,
      message: `seq ${seal.seq}: the bytes sealed at line 4 are not the bytes in the file (they were changed)`,
    });
  });
});

describe('mcp-otel audit verify', () => {
  async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stdout.write;
    const writeErr = process.stderr.write;
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const status = await run(args);
      return { status, stdout: out.join(''), stderr: err.join('') };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }

  test('ok: N records, M segments (exit 0); broken: FILE:LINE: what (exit 1); usage (exit 2)', async () => {
    const ok = await cli(['verify', reference]);
    const result = verifyAuditTrail(reference);
    assert.equal(ok.status, 0);
    const [first, second] = ok.stdout.split('\n');
    assert.equal(first, `ok: ${result.records} records, ${segments} segments`);
    assert.equal(
      second,
      `chain ${chain} (trail): ${segments} segment(s), ${result.records} records (15 operations), closed, head seq ${result.chains[0]!.lastSeq} ${result.chains[0]!.lastHash}`,
    );
    assert.equal(ok.stdout.split('\n').length, 3, 'no warning');

    const dir = copy();
    const file = join(dir, seg(2));
    const content = lines(file);
    content.splice(2, 1);
    writeLines(file, content);
    const bad = await cli(['verify', dir]);
    assert.equal(bad.status, 1);
    const problem = verifyAuditTrail(dir).problem!;
    assert.equal(bad.stdout, `broken: ${file}:3: ${problem.message}\n`);

    for (const args of [[], ['verify'], ['nope'], ['verify', reference, '--bogus'], ['verify', reference, reference], ['verify', join(dir, 'missing')]]) {
      const usage = await cli(args);
      assert.equal(usage.status, 2, `${args.join(' ')}: usage`);
      assert.equal(usage.stdout, '');
      assert.match(usage.stderr, /^mcp-otel audit: .+\nusage: mcp-otel audit verify PATH/);
    }
    assert.equal((await cli(['verify', '--help'])).status, 0);
  });

  test('--key and --key-file (one trailing newline ignored); a keyed chain without a key is a usage error', async () => {
    const dir = join(tempDir(), 'keyed');
    await writeTrail(dir, { hmacKey: 'k1-secret', ops: 3 });
    const keyFile = join(tempDir(), 'key');
    writeFileSync(keyFile, 'k1-secret\n');
    assert.equal((await cli(['verify', dir, '--key', 'k1-secret'])).status, 0);
    assert.equal((await cli(['verify', dir, '--key-file', keyFile])).status, 0);
    const wrong = await cli(['verify', dir, '--key', 'k2']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /^broken: .+trail-000001\.jsonl:1: the key does not match this chain/);
    const missing = await cli(['verify', dir]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /is keyed \(HMAC-SHA-256, key id [0-9a-f]{16}\): verify it with --key or --key-file/);
    assert.equal((await cli(['verify', dir, '--key', 'a', '--key-file', keyFile])).status, 2);
    assert.equal((await cli(['verify', dir, '--head', 'zz'])).status, 2);
  });

  test('every chain on a line of its own; a chain removed whole is a warning line (exit 0); a cut final newline is broken (exit 1)', async () => {
    const dir = tempDir();
    await writeTrail(dir, { name: 'alpha', ops: 1 });
    await writeTrail(dir, { name: 'beta', ops: 1 });
    const both = await cli(['verify', dir]);
    assert.equal(both.status, 0);
    assert.deepEqual(
      both.stdout.split('\n').map((l) => l.replace(/[0-9a-f-]{36}/, 'ID').replace(/[0-9a-f]{64}/, 'HASH')),
      [
        'ok: 6 records, 2 segments',
        'chain ID (alpha): 1 segment(s), 3 records (1 operations), closed, head seq 3 HASH',
        'chain ID (beta): 1 segment(s), 3 records (1 operations), closed, head seq 3 HASH',
        '',
      ],
    );
    for (const file of readdirSync(dir).filter((f) => f.startsWith('beta-'))) unlinkSync(join(dir, file));
    const warning = verifyAuditTrail(dir).warnings[0]!;
    const removed = await cli(['verify', dir]);
    assert.equal(removed.status, 0);
    assert.equal(removed.stdout.split('\n')[2], `warning: ${join(dir, 'chains.registry')}:2: ${warning.message}`);
    assert.match(warning.message, /^the chain [0-9a-f-]{36} \(beta, started .+ in beta-000001\.jsonl\) is missing/);

    const segment = join(dir, 'alpha-000001.jsonl');
    truncateSync(segment, readFileSync(segment).length - 1);
    const cut = await cli(['verify', dir]);
    assert.equal(cut.status, 1);
    assert.equal(cut.stdout, `broken: ${segment}:3: ${verifyAuditTrail(dir).problem!.message}\nwarning: ${join(dir, 'chains.registry')}:2: ${warning.message}\n`);
    assert.match(cut.stdout, /the last record lacks its newline/);
  });

  test('the installed command: exit statuses through mcp-otel', () => {
    const main = join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');
    const ok = spawnSync(process.execPath, [main, 'audit', 'verify', reference], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: \d+ records, \d+ segments\n/);
    const dir = copy();
    unlinkSync(join(dir, seg(segments)));
    const bad = spawnSync(process.execPath, [main, 'audit', 'verify', dir], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^broken: .+: the rotate record names the next segment .+, which is missing \(the last segment was removed\)\n$/);
    const usage = spawnSync(process.execPath, [main, 'audit', 'verify'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
  });
});
