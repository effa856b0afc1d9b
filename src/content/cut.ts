/*
 * Where to cut text that is too long: captured content ends in a truncation marker, peer-chosen
 * strings in `…`; a cut never splits a surrogate pair, and JSON text is never cut inside an escape.
 */

export const TRUNCATION_MARKER = '…[truncated]';

/** The most characters a peer-chosen string (resource URI, tool, prompt or logger name) keeps. */
export const MAX_PEER_STRING_LENGTH = 1024;

const BACKSLASH = 0x5c;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The end index (≤ `at`) of a cut of `text` at `at` that does not split a surrogate pair. */
export function safeCutIndex(text: string, at: number): number {
  return at > 0 && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

/**
 * The first `max` characters of JSON text `json` (longer than `max`), backed off (by at most five)
 * so as not to end inside an escape sequence (`\n`, `\u00e9`) or between the halves of a pair.
 */
export function cutJson(json: string, max: number): string {
  let cut = max;
  let slash = cut - 1;
  while (slash >= 0 && slash >= cut - 5 && json.charCodeAt(slash) !== BACKSLASH) slash -= 1;
  if (slash >= 0 && slash >= cut - 5) {
    // The backslash starts an escape if an odd number of backslashes ends at it.
    let run = 1;
    while (slash - run >= 0 && json.charCodeAt(slash - run) === BACKSLASH) run += 1;
    if (run % 2 === 1) {
      const length = json.charCodeAt(slash + 1) === 0x75 /* u */ ? 6 : 2;
      if (slash + length > cut) cut = slash;
    }
  }
  return json.slice(0, safeCutIndex(json, cut));
}

/** `text` as it is when at most `max` characters, else its first `max` characters and the marker. */
export function capText(text: string, max: number): string {
  return text.length > max ? text.slice(0, safeCutIndex(text, max)) + TRUNCATION_MARKER : text;
}

/**
 * A peer-chosen string (resource URI, tool, prompt or logger name) fit for spans, log lines and
 * audit records: the same string when at most `max` characters (one length check), else its first
 * characters ending in `…`, `max` characters in all and never splitting a surrogate pair. A value
 * that is not a string (a misbehaving peer) becomes one.
 */
export function capPeerString(value: string, max: number = MAX_PEER_STRING_LENGTH): string {
  if (typeof value === 'string' && value.length <= max) return value;
  const text = typeof value === 'string' ? value : stringOf(value);
  const limit = max >= 1 ? Math.floor(max) : MAX_PEER_STRING_LENGTH;
  if (text.length <= limit) return text;
  return text.slice(0, safeCutIndex(text, limit - 1)) + '…';
}

function stringOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '';
  }
}
