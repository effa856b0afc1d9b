/*
 * Redaction by value: secrets recognised by their shape in any string, whatever its key (bearer
 * tokens, JWTs, AWS access key ids, private-key blocks). Only the secret is replaced, so the text
 * around it stays readable; the scan of a string stops once enough redacted text is produced.
 */
import { REDACTED } from './keys';

/**
 * Each secret's shape, tried at a position (sticky). Every one starts with a literal that
 * `CANDIDATE` finds and is at least `SHORTEST_SECRET` characters long. A failed try reads a bounded
 * number of characters (a JWT header at most 8192, and only where a base64url run starts; the blanks after
 * `Bearer` at most 8), so a
 * long string full of near misses is not read again and again; a match is read to its end.
 */
const BEARER = /(?<![A-Za-z0-9_-])([Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,8})(?=[A-Za-z._~+/-]*[0-9]|[A-Za-z0-9._~+/-]{32})[A-Za-z0-9._~+/-]{16,}=*/y;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{16,8192}\.eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?/y;
const AWS_ACCESS_KEY_ID = /(?<![A-Za-z0-9])A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])/y;
const PRIVATE_KEY =
  /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.\\]|-(?!----))*(?:-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY-----)?/y;
const SECRETS = [BEARER, JWT, AWS_ACCESS_KEY_ID, PRIVATE_KEY];

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
  for (const pattern of SECRETS) {
    const secret = shapeAt(pattern, text, index);
    if (secret !== undefined) return secret;
  }
  return undefined;
}

function shapeAt(pattern: RegExp, text: string, index: number): SecretMatch | undefined {
  pattern.lastIndex = index;
  const match = pattern.exec(text);
  if (match === null) return undefined;
  return { end: index + match[0].length, replacement: pattern === BEARER ? match[1] + REDACTED : REDACTED };
}

/** The one shape a candidate can start, told by its first character. */
function shapeOf(first: number): RegExp {
  switch (first) {
    case 0x65: // e
      return JWT;
    case 0x41: // A
      return AWS_ACCESS_KEY_ID;
    case 0x2d: // -
      return PRIVATE_KEY;
    default: // B or b
      return BEARER;
  }
}

/** `text` with every secret replaced by `[REDACTED]` (a bearer token keeps its scheme: `Bearer [REDACTED]`). */
export function redactSecretValues(text: string): string {
  return redactedPrefix(text, Infinity);
}

/**
 * `redactSecretValues(text)` when that is at most `limit` characters long, else a prefix of it
 * longer than `limit` (by one, or two so as not to end between a surrogate pair, or by what a
 * replacement added). Reads `text` only as far as that prefix needs (and through a secret that
 * starts within it).
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
    const secret = shapeAt(shapeOf(window.charCodeAt(candidate.index)), text, start);
    if (secret !== undefined) return { start, end: secret.end, replacement: secret.replacement };
    CANDIDATE.lastIndex = candidate.index + 1;
  }
}

/** `end`, or one more when the character before it is the first half of a surrogate pair. */
function pairSafeEnd(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff && end < text.length ? end + 1 : end;
}
