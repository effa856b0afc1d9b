/*
 * A string as JSON text, for the writers that build JSON by concatenation (the JSON-line log, the
 * audit trail's canonical JSON): the same text as `JSON.stringify(value)`, which escapes quotes,
 * backslashes, control characters and lone surrogates. Most values (method and tool names, ids,
 * timestamps) hold none of these and are only put in quotes, which costs less than `JSON.stringify`.
 */

/** What a JSON string must not hold raw: quote, backslash, control characters, surrogates (lone ones need escaping). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)` for a string. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}
