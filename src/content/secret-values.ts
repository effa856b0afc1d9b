/*
 * Redaction by value: secrets recognised by their shape in any string, whatever its key (bearer
 * tokens, JWTs, AWS access key ids, private-key blocks). Only the secret is replaced, so the text
 * around it stays readable; the scan of a string stops once enough redacted text is produced.
 */
import { REDACTED } from './keys';

/** Character classes, one bit each, for reading a secret's body with a loop instead of a regex. */
const TOKEN68 = 1; // a bearer token: letters, digits, - . _ ~ + /
const BASE64URL = 2; // a JWT segment: letters, digits, - _
const KEY_BODY = 4; // a PEM body: base64, headers (Proc-Type: 4,ENCRYPTED), blanks, escaped newlines
const DIGIT = 8;
const CLASSES = new Uint8Array(128);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
for (const [chars, bit] of [
  [`${ALNUM}-._~+/`, TOKEN68],
  [`${ALNUM}-_`, BASE64URL],
  [`${ALNUM}+/=:,.\\ \t\n\r\v\f`, KEY_BODY],
  ['0123456789', DIGIT],
] as const) {
  for (let i = 0; i < chars.length; i++) CLASSES[chars.charCodeAt(i)] |= bit;
}

function isIn(code: number, bit: number): boolean {
  return code < 128 && (CLASSES[code] & bit) !== 0;
}

function runEnd(text: string, from: number, bit: number, stop: number): number {
  let i = from;
  while (i < stop && isIn(text.charCodeAt(i), bit)) i += 1;
  return i;
}

/**
 * The most characters of a secret read: one longer (a token in a huge base64 blob) is taken to run
 * to the end of its string, so that a secret costs no more than this to find.
 */
const LONGEST_SECRET = 65_536;

/** Where reading a secret starting at `index` stops. */
function stopOf(text: string, index: number): number {
  return Math.min(text.length, index + LONGEST_SECRET);
}

/** `end`, or the end of `text` when the secret was still going at `stop`. */
function secretEnd(text: string, end: number, stop: number): number {
  return end >= stop ? text.length : end;
}

/**
 * Each secret's shape, tried at a position: a sticky regular expression recognises its head,
 * reading a bounded number of characters (so a long string of near misses is not read again and
 * again), and a loop reads its body to its end or to `LONGEST_SECRET` (a secret is replaced whole;
 * a loop, because a regular expression's backtracking stack overflows on a body of millions of characters).
 */
type Shape = (text: string, index: number) => SecretMatch | undefined;

const BEARER_HEAD = /(?<![A-Za-z0-9_-])[Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,8}/y;
/** `Bearer` and a token of at least 16 characters with a digit, or of at least 32. */
const bearer: Shape = (text, index) => {
  const head = sticky(BEARER_HEAD, text, index);
  if (head === 0) return undefined;
  const stop = stopOf(text, index);
  let end = index + head;
  let digit = false;
  for (; end < stop; end++) {
    const code = text.charCodeAt(end);
    if (!isIn(code, TOKEN68)) break;
    if (isIn(code, DIGIT)) digit = true;
  }
  const length = end - index - head;
  if (length < 16 || (!digit && length < 32)) return undefined;
  while (end < stop && text.charCodeAt(end) === 0x3d /* = */) end += 1;
  return { end: secretEnd(text, end, stop), replacement: text.slice(index, index + head) + REDACTED };
};

const JWT_HEAD = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{16,8192}\.eyJ/y;
/** A JWT: `eyJ…` header, `.eyJ…` payload, an optional `.…` signature (base64url of JSON, so `eyJ`). */
const jwt: Shape = (text, index) => {
  const head = sticky(JWT_HEAD, text, index);
  if (head === 0) return undefined;
  const stop = stopOf(text, index);
  let end = runEnd(text, index + head, BASE64URL, stop);
  if (end === index + head) return undefined;
  if (end < stop && text.charCodeAt(end) === 0x2e /* . */) end = runEnd(text, end + 1, BASE64URL, stop);
  return { end: secretEnd(text, end, stop), replacement: REDACTED };
};

const AWS_ACCESS_KEY_ID = /(?<![A-Za-z0-9])A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])/y;
/** An AWS access key id: AKIA (long-term) or ASIA (temporary) and 16 upper-case letters or digits. */
const awsAccessKeyId: Shape = (text, index) => {
  const length = sticky(AWS_ACCESS_KEY_ID, text, index);
  return length === 0 ? undefined : { end: index + length, replacement: REDACTED };
};

const KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----/y;
const KEY_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----/y;
/** A PEM private-key block; without its END line, up to the end of the key material. */
const privateKey: Shape = (text, index) => {
  const head = sticky(KEY_BEGIN, text, index);
  if (head === 0) return undefined;
  const stop = stopOf(text, index);
  let end = index + head;
  for (; end < stop; end++) {
    const code = text.charCodeAt(end);
    if (isIn(code, KEY_BODY)) continue;
    if (code !== 0x2d /* - */ || text.startsWith('----', end + 1)) break;
  }
  if (end >= stop) return { end: text.length, replacement: REDACTED };
  return { end: end + sticky(KEY_END, text, end), replacement: REDACTED };
};

const SHAPES: readonly Shape[] = [bearer, jwt, awsAccessKeyId, privateKey];

/** The length of `pattern`'s match at `index` (sticky), or 0. */
function sticky(pattern: RegExp, text: string, index: number): number {
  pattern.lastIndex = index;
  const match = pattern.exec(text);
  return match === null ? 0 : match[0].length;
}

/** Where a secret may start: one pass over a string finds every candidate position. */
const CANDIDATE = /[Bb][Ee][Aa][Rr][Ee][Rr][ \t]|eyJ|A[KS]IA|-----BEGIN /g;
const LONGEST_CANDIDATE = '-----BEGIN '.length;
/** No secret is shorter (an AWS access key id is 20 characters), so shorter strings are not scanned. */
const SHORTEST_SECRET = 20;

/** A secret found by `secretAt`. */
export interface SecretMatch {
  /** Index just past the secret. */
  readonly end: number;
  /** What stands in the text for it. */
  readonly replacement: string;
}

/** The secret starting exactly at `index` of `text`, if any (the first shape that matches). */
export function secretAt(text: string, index: number): SecretMatch | undefined {
  for (const shape of SHAPES) {
    const secret = shape(text, index);
    if (secret !== undefined) return secret;
  }
  return undefined;
}

/** The one shape a candidate can start, told by its first character. */
function shapeOf(first: number): Shape {
  switch (first) {
    case 0x65: // e
      return jwt;
    case 0x41: // A
      return awsAccessKeyId;
    case 0x2d: // -
      return privateKey;
    default: // B or b
      return bearer;
  }
}

/** `text` with every secret replaced by `[REDACTED]` (a bearer token keeps its scheme: `Bearer [REDACTED]`). */
export function redactSecretValues(text: string): string {
  return redactedPrefix(text, Infinity);
}

/**
 * `redactSecretValues(text)` when that is at most `limit` characters long, else a prefix of it
 * longer than `limit` (by one, or two so as not to end between a surrogate pair, or by what a
 * replacement added). Reads `text` only as far as that prefix needs, and at most `LONGEST_SECRET`
 * characters into a secret that starts within it.
 */
export function redactedPrefix(text: string, limit: number): string {
  const n = text.length;
  if (n < SHORTEST_SECRET) return n > limit + 1 ? text.slice(0, pairSafeEnd(text, limit + 1)) : text;
  let out = '';
  let pos = 0;
  for (;;) {
    let end = pos + (limit + 1 - out.length);
    if (end <= pos) return out;
    end = end >= n ? n : pairSafeEnd(text, end);
    const secret = nextSecret(text, pos, end);
    if (secret === undefined) return out === '' && pos === 0 && end === n ? text : out + text.slice(pos, end);
    out += text.slice(pos, secret.start) + secret.replacement;
    pos = secret.end;
  }
}

/** The first secret starting in `text[from, end)`. */
function nextSecret(text: string, from: number, end: number): (SecretMatch & { start: number }) | undefined {
  const window = from === 0 && end + LONGEST_CANDIDATE > text.length ? text : text.slice(from, end + LONGEST_CANDIDATE - 1);
  CANDIDATE.lastIndex = 0;
  for (;;) {
    const candidate = CANDIDATE.exec(window);
    if (candidate === null) return undefined;
    const start = from + candidate.index;
    if (start >= end) return undefined;
    const secret = shapeOf(window.charCodeAt(candidate.index))(text, start);
    if (secret !== undefined) return { start, end: secret.end, replacement: secret.replacement };
    CANDIDATE.lastIndex = candidate.index + 1;
  }
}

/** `end`, or one more when the character before it is the first half of a surrogate pair. */
function pairSafeEnd(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff && end < text.length ? end + 1 : end;
}
