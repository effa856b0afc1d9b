/*
 * Content capture's serialiser: the same text as `JSON.stringify` with redaction under the cap, a
 * prefix of it cut cleanly over the cap, work bounded by the cap, redaction by key and by value,
 * the exotic values, prompt variables and `capPeerString`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  capPeerString,
  createKeyRedactor,
  MAX_PEER_STRING_LENGTH,
  promptVariableValue,
  REDACTED,
  redactSecretValues,
  serializeContent,
  TRUNCATION_MARKER,
  type KeyRedactor,
} from '../src/content';
import { redactedPrefix, secretAt } from '../src/content/secret-values';
import { seededRandom } from './helpers/random';

const redact = createKeyRedactor(['internalId', /^x-/]);

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF0qW\nq2A+9ZwmuEXAMPLE==\n-----END RSA PRIVATE KEY-----';

const PIECES = [
  'a', 'Z', '0', ' ', 'hello ', '"', '\\', '\\\\', '\n', '\t', '\u0001', '\u007f', 'é', '😀', '\ud83d', '\ude00', '/',
  'Bearer ', 'bearer\t', '0123456789abcdef', 'eyJ', 'eyJhbGciOiJIUzI1NiJ9', '.', 'AKIA', 'ASIA', 'IOSFODNN7EXAMPLE',
  '-----BEGIN ', 'PRIVATE KEY-----', '-----END PRIVATE KEY-----', '=', JWT, PEM, 'Bearer 9f8e7d6c5b4a39281706f5e4d3c2',
  'AKIAIOSFODNN7EXAMPLE',
];
const KEYS = ['text', 'name', 'password', 'apiKey', 'internalId', 'x-trace', 'note', 'é"\\key', '😀', '', '0'];

function randomString(next: () => number, pieces: number): string {
  let s = '';
  const count = Math.floor(next() * pieces);
  for (let i = 0; i < count; i++) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 6 : 9));
  if (kind < 2) return randomString(next, 12);
  if (kind === 2) return [0, -1.5, 1e21, 3, NaN, Infinity][Math.floor(next() * 6)];
  if (kind === 3) return next() < 0.5;
  if (kind === 4) return null;
  if (kind === 5) return next() < 0.5 ? undefined : new Date(Math.floor(next() * 2e12));
  if (kind === 8) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
  const obj: Record<string, unknown> = {};
  const count = Math.floor(next() * 5);
  for (let i = 0; i < count; i++) obj[KEYS[Math.floor(next() * KEYS.length)]] = randomValue(next, depth + 1);
  return obj;
}

/** What the serialiser must produce: `JSON.stringify` with redaction by key and by value. */
function reference(value: unknown, keys: KeyRedactor): string {
  if (typeof value === 'string') return redactSecretValues(value);
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return v;
    if (key !== '' && !Array.isArray(this) && keys(key)) return REDACTED;
    return typeof v === 'string' ? redactSecretValues(v) : v;
  });
}

/** Redaction by value, the slow way: every position of `text` tried in turn. */
function naiveRedact(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const secret = secretAt(text, i);
    if (secret === undefined) out += text[i++];
    else {
      out += secret.replacement;
      i = secret.end;
    }
  }
  return out;
}

/**
 * The longest prefix of JSON text `json` of at most `max` characters that does not end inside an
 * escape sequence or between the halves of a surrogate pair, found by reading `json` forwards.
 */
function cleanCut(json: string, max: number): string {
  const unsafe = new Set<number>();
  for (let i = 0; i < json.length; i++) {
    if (json[i] === '\\') {
      const length = json[i + 1] === 'u' ? 6 : 2;
      for (let j = i + 1; j < i + length; j++) unsafe.add(j);
      i += length - 1;
    } else if (/[\ud800-\udbff]/.test(json[i]) && /[\udc00-\udfff]/.test(json[i + 1] ?? '')) unsafe.add(i + 1);
  }
  let cut = max;
  while (unsafe.has(cut)) cut -= 1;
  return json.slice(0, cut);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('serializeContent against JSON.stringify', () => {
  test('under the cap: the same text as JSON.stringify with redaction, for 3000 generated values', () => {
    const next = seededRandom(20240901);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(next, 0);
      const expected = reference(value, redact);
      if (expected === undefined || expected.length > 4096) continue;
      assert.equal(serializeContent(value, 4096, redact), expected, `value #${i}`);
      compared += 1;
    }
    assert.ok(compared > 2500, `${compared} values compared`);
  });

  test('over the cap: a clean prefix of the full text cut at the cap, then the marker', () => {
    const next = seededRandom(7);
    let cuts = 0;
    for (let i = 0; i < 1500; i++) {
      const value = randomValue(next, 0);
      const full = reference(value, redact);
      if (full === undefined || full.length < 2) continue;
      for (let k = 0; k < 4; k++) {
        const max = Math.floor(next() * full.length);
        const out = serializeContent(value, max, redact);
        if (typeof value === 'string') {
          const cut = /[\ud800-\udbff]/.test(full[max - 1] ?? '') ? max - 1 : max;
          assert.equal(out, full.slice(0, cut) + TRUNCATION_MARKER, `string #${i} cut at ${max}`);
          continue;
        }
        const expected = cleanCut(full, max);
        assert.ok(expected.length >= max - 5);
        assert.equal(out, expected + TRUNCATION_MARKER, `value #${i} cut at ${max}`);
        if (!LONE_SURROGATE.test(full)) assert.doesNotMatch(out, LONE_SURROGATE);
        cuts += 1;
      }
    }
    assert.ok(cuts > 3000, `${cuts} cuts compared`);
  });

  test('a cut inside an escape sequence or a surrogate pair backs off to before it', () => {
    const keys = createKeyRedactor([]);
    // {"a":" is 6 characters; then \u0001 (6), \" (2), \\ (2) and 😀 (2) straddle the cap.
    const cases: Array<[string, number, string]> = [['\u0001', 8, ''], ['\u0001b', 12, '\\u0001'], ['"b', 7, ''], ['\\"', 9, '\\\\'], ['😀b', 7, ''], ['\ud83d', 9, '']];
    for (const [a, max, kept] of cases) assert.equal(serializeContent({ a }, max, keys), `{"a":"${kept}${TRUNCATION_MARKER}`);
    assert.deepEqual([serializeContent('😀😀', 3, keys), serializeContent('ab', 0, keys)], [`😀${TRUNCATION_MARKER}`, TRUNCATION_MARKER]);
  });
});

describe('serializeContent work is bounded by the cap', () => {
  /** Runs `fn` recording the longest string given to JSON.stringify and to RegExp exec/test. */
  function longestInput(fn: () => void): { stringify: number; regexp: number; stringified: number } {
    const stringify = JSON.stringify;
    const exec = RegExp.prototype.exec;
    const seen = { stringify: 0, regexp: 0, stringified: 0 };
    JSON.stringify = function (this: unknown, ...args: Parameters<typeof JSON.stringify>) {
      if (typeof args[0] === 'string') {
        seen.stringify = Math.max(seen.stringify, args[0].length);
        seen.stringified += args[0].length;
      }
      return stringify.apply(this, args);
    } as typeof JSON.stringify;
    RegExp.prototype.exec = function (this: RegExp, input: string) {
      seen.regexp = Math.max(seen.regexp, String(input).length);
      return exec.call(this, input);
    };
    try {
      fn();
    } finally {
      JSON.stringify = stringify;
      RegExp.prototype.exec = exec;
    }
    return seen;
  }

  test('a 5 MB string inside an object, cap 4096: never escaped or scanned beyond the cap', () => {
    const text = 'say "hi"\n'.repeat(600_000); // 5.4 MB, with characters to escape
    let out = '';
    const seen = longestInput(() => {
      out = serializeContent({ content: [{ type: 'text', text }], meta: { ok: true } }, 4096, redact);
    });
    assert.ok(seen.stringify > 0, 'the escaping went through JSON.stringify');
    assert.ok(seen.stringify <= 4096, `JSON.stringify given ${seen.stringify} characters`);
    assert.ok(seen.stringified <= 4096, `JSON.stringify given ${seen.stringified} characters in all`);
    assert.ok(seen.regexp > 0 && seen.regexp <= 4096 + 16, `a regular expression given ${seen.regexp} characters`);
    assert.equal(out, cleanCut(JSON.stringify({ content: [{ type: 'text', text: text.slice(0, 5000) }] }), 4096) + TRUNCATION_MARKER);
  });

  test('a 5 MB key and a 5 MB top-level string are bounded too', () => {
    const long = 'k'.repeat(5_000_000);
    let out = '';
    let seen = longestInput(() => {
      out = serializeContent({ [long]: 1 }, 100, redact);
    });
    assert.equal(out, `{"${'k'.repeat(98)}${TRUNCATION_MARKER}`);
    assert.ok(seen.stringify <= 100 && seen.regexp <= 100, JSON.stringify(seen));
    seen = longestInput(() => {
      out = serializeContent(long, 100, redact);
    });
    assert.equal(out, 'k'.repeat(100) + TRUNCATION_MARKER);
    assert.ok(seen.stringify === 0 && seen.regexp <= 120, JSON.stringify(seen));
  });

  test('a 5 MB string starting with a bearer token: the token redacted, the rest cut', () => {
    const text = `Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0 ${'y'.repeat(5_000_000)}`;
    assert.equal(serializeContent({ text }, 40, redact), `{"text":"Bearer [REDACTED] ${'y'.repeat(13)}${TRUNCATION_MARKER}`);
    assert.equal(serializeContent(text, 20, redact), `Bearer [REDACTED] yy${TRUNCATION_MARKER}`);
  });
});

describe('redaction by value', () => {
  test('long strings full of near misses, and a secret longer than the cap', () => {
    // Each near miss is tried once and reads a bounded number of characters (measured in bench/).
    const runs = 'eyJ'.repeat(1_000_000);
    assert.equal(serializeContent({ text: runs }, 64, redact), `{"text":"${runs.slice(0, 55)}${TRUNCATION_MARKER}`);
    const bearers = 'Bearer x '.repeat(300_000);
    assert.equal(serializeContent(bearers, 64, redact), bearers.slice(0, 64) + TRUNCATION_MARKER);
    const blanks = `Bearer${' '.repeat(1_000_000)}0123456789abcdefgh`;
    assert.equal(redactSecretValues(blanks), blanks);
    const header = `-----BEGIN ${'A '.repeat(1_000_000)}PRIVATE KEY-----`;
    assert.equal(serializeContent(header, 64, redact), header.slice(0, 64) + TRUNCATION_MARKER);
    const longJwt = `eyJhbGciOiJIUzI1NiJ9.eyJ${'A'.repeat(1_000_000)}.sig tail`;
    assert.equal(serializeContent({ longJwt, n: 1 }, 64, redact), '{"longJwt":"[REDACTED]","n":1}');
  });

  test('a secret is read up to 64 KiB; a longer one is taken to run to the end of its string', () => {
    const body = 'a'.repeat(65_000);
    assert.equal(redactSecretValues(`Bearer 1${body}== tail`), 'Bearer [REDACTED] tail');
    assert.equal(redactSecretValues(`x ${JWT.slice(0, 60)}${body}.sig tail`), 'x [REDACTED] tail');
    assert.equal(redactSecretValues(`-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY----- tail`), '[REDACTED] tail');
    const huge = 'a'.repeat(20_000_000); // read by a loop: a regular expression's backtracking stack overflows
    assert.equal(serializeContent(`Bearer 1${huge}== tail`, 64, redact), 'Bearer [REDACTED]');
    assert.equal(serializeContent({ key: `-----BEGIN PRIVATE KEY-----\n${huge} tail`, n: 1 }, 64, redact), '{"key":"[REDACTED]","n":1}');
    assert.equal(serializeContent([`${JWT.slice(0, 60)}${huge}.sig tail`], 64, redact), '["[REDACTED]"]');
  });

  const cases: Array<[string, string, string]> = [
    ['bearer token', 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0', 'Authorization: Bearer [REDACTED]'],
    ['bearer token, any case, tab, padding', 'auth=BEARER\tAbCdEfGhIjKlMnOp1234== end', 'auth=BEARER\t[REDACTED] end'],
    ['long bearer token of letters', `Bearer ${'abcdefgh'.repeat(4)}`, 'Bearer [REDACTED]'],
    ['JWT inside text', `token ${JWT} expires`, 'token [REDACTED] expires'],
    ['JWT without signature', 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIn0.', '[REDACTED]'],
    ['JWT cut after its payload', 'jwt=eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIn0', 'jwt=[REDACTED]'],
    ['AWS access key id', 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE', 'aws_access_key_id=[REDACTED]'],
    ['AWS temporary access key id', 'ASIAY34FZKBOKMUTVV7A,', '[REDACTED],'],
    ['private-key block', `key:\n${PEM}\ndone`, 'key:\n[REDACTED]\ndone'],
    [
      'encrypted private-key block with headers',
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,3F17F5316E2BAC89\n\nMIIEow==\n-----END RSA PRIVATE KEY-----',
      '[REDACTED]',
    ],
    ['OpenSSH and PKCS#8 blocks', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn==\n-----END OPENSSH PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----MIIB-----END PRIVATE KEY-----', '[REDACTED] and [REDACTED]'],
    ['private key in JSON text (escaped newlines)', '{"key":"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----\\n"}', '{"key":"[REDACTED]\\n"}'],
    ['private-key block cut short: redacted to the end of the key material', '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0B"}', '[REDACTED]"}'],
    ['several secrets', `AKIAIOSFODNN7EXAMPLE Bearer 0123456789abcdefXYZ ${JWT}`, '[REDACTED] Bearer [REDACTED] [REDACTED]'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      assert.equal(redactSecretValues(input), expected);
      assert.equal(naiveRedact(input), expected);
      assert.equal(serializeContent({ note: input }, 4096, redact), JSON.stringify({ note: expected }));
      assert.equal(serializeContent(input, 4096, redact), expected);
    });
  }

  const nearMisses: Array<[string, string]> = [
    ['bearer in prose', 'The Bearer of bad news; bearer authentication/authorization is described in RFC 6750'],
    ['short bearer value', 'Authorization: Bearer abc123'],
    ['bearer inside a word', 'xBearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
    ['a JWT header alone', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'],
    ['a payload that is not JSON', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24.c2ln'],
    ['a dotted name starting with eyJ', 'eyJohn.eyJane.smith'],
    ['AKIA with 15 characters', 'AKIAIOSFODNN7EXAMPL'],
    ['AKIA with 17 characters', 'AKIAIOSFODNN7EXAMPLE1'],
    ['AKIA in lower case', 'akiaiosfodnn7example'],
    ['AKIA with a lower-case letter', 'AKIAIOSFODNN7EXAMPLe'],
    ['AKIA inside a word', 'XAKIAIOSFODNN7EXAMPLE'],
    ['public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----'],
    ['certificate', '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----'],
    ['prose about private keys', 'Never paste a PRIVATE KEY----- header or -----BEGIN marker into chat'],
    ['short strings are never scanned', 'Bearer 0123456789'],
  ];
  for (const [name, input] of nearMisses) {
    test(`not redacted: ${name}`, () => {
      assert.equal(redactSecretValues(input), input);
      assert.equal(serializeContent({ note: input }, 4096, redact), JSON.stringify({ note: input }));
    });
  }

  test('keys are redacted by name only, not by value; array elements and prompt variables by value', () => {
    assert.equal(serializeContent({ AKIAIOSFODNN7EXAMPLE: 1 }, 4096, redact), '{"AKIAIOSFODNN7EXAMPLE":1}');
    assert.equal(serializeContent(['a', ['AKIAIOSFODNN7EXAMPLE']], 4096, redact), '["a",["[REDACTED]"]]');
    assert.equal(promptVariableValue('header', `Bearer ${JWT}`, 4096, redact), 'Bearer [REDACTED]');
  });

  test('the windowed scan gives a prefix of the full redaction, for 20000 generated strings and limits', () => {
    const next = seededRandom(99);
    for (let i = 0; i < 20_000; i++) {
      const text = randomString(next, 30);
      const full = naiveRedact(text);
      assert.equal(redactSecretValues(text), full, `string #${i}`);
      const limit = Math.floor(next() * (full.length + 2)) - 1;
      const prefix = redactedPrefix(text, limit);
      if (full.length <= limit) assert.equal(prefix, full, `string #${i}, limit ${limit}`);
      else {
        assert.ok(prefix.length > limit, `string #${i}, limit ${limit}: ${prefix.length}`);
        assert.ok(full.startsWith(prefix), `string #${i}, limit ${limit}`);
      }
    }
  });
});

describe('redaction by key', () => {
  test('built-in secret keys, any case, at any depth', () => {
    const keys = createKeyRedactor(undefined);
    const secretKeys = ['Authorization', 'password', 'passwd', 'db_pwd_password', 'clientSecret', 'accessToken', 'api_key', 'api-key', 'apikey', 'X-API-Key', 'Cookie', 'credentials', 'private_key', 'sessionKey'];
    for (const key of secretKeys) assert.equal(keys(key), true, key);
    for (const key of ['user', 'pwd', 'name', 'keyboard', 'session']) assert.equal(keys(key), false, key);
    assert.equal(
      serializeContent({ user: 'ada', nested: [{ Password: { any: 'thing' } }], token: undefined }, 4096, keys),
      '{"user":"ada","nested":[{"Password":"[REDACTED]"}]}',
    );
  });

  test('user keys: strings as case-insensitive literal substrings, RegExps as given (a g flag keeps no state)', () => {
    const keys = createKeyRedactor(['user.id', /^ssn$/g, '']);
    assert.equal(keys('USER.ID'), true);
    assert.equal(keys('userXid'), false);
    assert.equal(keys('ssn'), true);
    assert.equal(keys('ssn'), true);
    assert.equal(keys('SSN'), false);
    assert.equal(keys(''), false);
    assert.equal(serializeContent({ 'user.id': 7, ssn: '1', other: 2 }, 4096, keys), '{"user.id":"[REDACTED]","ssn":"[REDACTED]","other":2}');
  });

  test('prompt variables: a secret name redacts the whole value', () => {
    assert.equal(promptVariableValue('password', 'hunter2', 4096, redact), REDACTED);
    assert.equal(promptVariableValue('name', 'Ada', 4096, redact), 'Ada');
    assert.equal(promptVariableValue('options', { apiKey: 'k', n: 1 }, 4096, redact), '{"apiKey":"[REDACTED]","n":1}');
    assert.equal(promptVariableValue('name', 'Ada Lovelace', 3, redact), `Ada${TRUNCATION_MARKER}`);
  });
});

describe('values JSON cannot hold, and hostile ones', () => {
  const keys = createKeyRedactor([]);

  test('cycles are marked; a shared object that is no cycle is written each time', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { name: 'root', list: [shared, shared] };
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic.list);
    assert.equal(serializeContent(cyclic, 4096, keys), '{"name":"root","list":[{"n":1},{"n":1},"[Circular]"],"self":"[Circular]"}');
  });

  test('BigInt, non-finite numbers, functions, symbols and undefined', () => {
    const value = { big: 12345678901234567890n, nan: NaN, inf: -Infinity, f: () => 1, s: Symbol('s'), u: undefined, list: [undefined, () => 1, Symbol('t'), 2n] };
    assert.equal(serializeContent(value, 4096, keys), '{"big":"12345678901234567890n","nan":null,"inf":null,"list":[null,null,null,"2n"]}');
    assert.equal(serializeContent(10n ** 40n, 4096, keys), `"1${'0'.repeat(40)}n"`);
  });

  test('a getter that throws reads as [Unreadable]; a proxy that throws makes the whole value [Unserializable]', () => {
    const value = {
      ok: 1,
      get broken(): unknown {
        throw new Error('no');
      },
    };
    assert.equal(serializeContent(value, 4096, keys), '{"ok":1,"broken":"[Unreadable]"}');
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no'); } });
    assert.equal(serializeContent({ a: hostile }, 4096, keys), '"[Unserializable]"');
  });

  test('dates as ISO text, an invalid date as null', () => {
    assert.equal(serializeContent({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), bad: new Date(NaN) }, 4096, keys), '{"at":"2024-01-02T03:04:05.006Z","bad":null}');
  });

  test('binary data by its size only, however large', () => {
    const value = { bytes: new Uint8Array(5_000_000), buffer: new ArrayBuffer(3), view: new DataView(new ArrayBuffer(2)), floats: new Float64Array(2), node: Buffer.from('hi') };
    assert.equal(
      serializeContent(value, 4096, keys),
      '{"bytes":"[Uint8Array 5000000 bytes]","buffer":"[ArrayBuffer 3 bytes]","view":"[DataView 2 bytes]","floats":"[Float64Array 16 bytes]","node":"[Buffer 2 bytes]"}',
    );
    assert.equal(serializeContent({ bytes: new Uint8Array(5_000_000) }, 20, keys), `{"bytes":"[Uint8Arra${TRUNCATION_MARKER}`);
  });

  test('nesting deeper than 32 levels is cut with [Too deep]', () => {
    let value: unknown = 'bottom';
    for (let i = 0; i < 40; i++) value = [value];
    assert.equal(serializeContent(value, 4096, keys), `${'['.repeat(33)}"[Too deep]"${']'.repeat(33)}`);
  });

  test('a huge array stops at the cap without reading the rest', () => {
    let reads = 0;
    const list = new Proxy(new Array(1_000_000).fill(1), {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads += 1;
        return Reflect.get(target, key, receiver);
      },
    });
    assert.equal(serializeContent(list, 20, keys), `[1,1,1,1,1,1,1,1,1,1${TRUNCATION_MARKER}`);
    assert.equal(reads, 10);
  });

  test('the caller\'s value is not changed', () => {
    const value = { password: 'p', text: `Bearer ${JWT}`, list: [1, 'AKIAIOSFODNN7EXAMPLE'] };
    const copy = structuredClone(value);
    serializeContent(value, 10, redact);
    serializeContent(value, 4096, redact);
    assert.deepEqual(value, copy);
  });
});

describe('capPeerString', () => {
  test('a short string is the same string; a long one keeps its start and ends in …', () => {
    const short = 'tools/call';
    assert.equal(capPeerString(short), short);
    assert.equal(MAX_PEER_STRING_LENGTH, 1024);
    assert.equal(capPeerString('a'.repeat(1024)), 'a'.repeat(1024));
    const long = `file:///${'d/'.repeat(5000)}`;
    const capped = capPeerString(long);
    assert.equal(capped.length, MAX_PEER_STRING_LENGTH);
    assert.equal(capped, `${long.slice(0, MAX_PEER_STRING_LENGTH - 1)}…`);
    assert.deepEqual([capPeerString('abcdef', 4), capPeerString('abcd', 4)], ['abc…', 'abcd']);
  });

  test('never splits a surrogate pair', () => {
    assert.equal(capPeerString('a😀bc', 3), 'a…');
    assert.equal(capPeerString('ab😀c', 4), 'ab…');
    assert.equal(capPeerString('😀😀😀', 4), '😀…');
    assert.doesNotMatch(capPeerString('😀'.repeat(2000)), LONE_SURROGATE);
  });

  test('a value that is not a string, or a bad maximum, does not throw', () => {
    assert.equal(capPeerString(42 as unknown as string), '42');
    assert.equal(capPeerString({ toString: () => { throw new Error('no'); } } as unknown as string), '');
    assert.equal(capPeerString('x'.repeat(2000), NaN), `${'x'.repeat(MAX_PEER_STRING_LENGTH - 1)}…`);
    assert.equal(capPeerString('abc', 0), 'abc');
  });
});
