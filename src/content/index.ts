/*
 * Capture of user content (tool arguments and results, prompt variables) for span attributes: only
 * when the user opted in, serialised to JSON-like text that never throws (cycles, BigInt, getters
 * that throw, exotic objects), secrets redacted by key and by value, and capped in length.
 * Serialisation stops at the cap for every value, a long string included: a huge result costs no
 * more than the cap.
 */
import { jsonString } from '../json-string';
import { capText, cutJson, TRUNCATION_MARKER } from './cut';
import { REDACTED, type KeyRedactor } from './keys';
import { redactedPrefix } from './secret-values';

export { capPeerString, MAX_PEER_STRING_LENGTH, TRUNCATION_MARKER } from './cut';
export { createKeyRedactor, REDACTED, type KeyRedactor } from './keys';
export { redactSecretValues } from './secret-values';

const MAX_DEPTH = 32;

/** Thrown (one shared object, no stack trace to capture) when the text passes the cap. */
const OVER_BUDGET = Object.freeze({ overBudget: true });

/**
 * `value` as JSON text with secrets redacted (by key, and by value in every string), at most
 * `maxLength` characters; when longer, a prefix of that text (cut so as not to end inside an escape
 * sequence or a surrogate pair, so at most five characters short of `maxLength`) and the
 * truncation marker. A string is returned as it is (redacted and capped), not quoted.
 */
export function serializeContent(value: unknown, maxLength: number, redact: KeyRedactor): string {
  const max = maxLength >= 0 ? Math.floor(maxLength) : 0;
  let out = '';
  const seen = new Set<object>();
  const push = (text: string) => {
    out += text;
    if (out.length > max) throw OVER_BUDGET;
  };
  // A string as JSON: only as much of it is redacted and escaped as the remaining room can show.
  const pushString = (text: string, secretValues: boolean) => {
    const room = max - out.length - 1; // after the opening quote
    if (secretValues) push(jsonString(redactedPrefix(text, room)));
    else push(jsonString(text.length > room + 1 ? text.slice(0, room + 1) : text));
  };
  const walk = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'string':
        pushString(v, true);
        return;
      case 'number':
        push(Number.isFinite(v) ? String(v) : 'null');
        return;
      case 'boolean':
        push(v ? 'true' : 'false');
        return;
      case 'bigint':
        pushString(`${v.toString()}n`, false);
        return;
      case 'undefined':
      case 'function':
      case 'symbol':
        push('null');
        return;
      default:
        break;
    }
    if (v === null) {
      push('null');
      return;
    }
    const obj = v as object;
    if (seen.has(obj)) {
      push('"[Circular]"');
      return;
    }
    if (depth > MAX_DEPTH) {
      push('"[Too deep]"');
      return;
    }
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        push('[');
        for (let i = 0; i < obj.length; i++) {
          if (i > 0) push(',');
          walk(readSafely(obj, i), depth + 1);
        }
        push(']');
        return;
      }
      if (obj instanceof Date) {
        push(Number.isNaN(obj.getTime()) ? 'null' : `"${obj.toISOString()}"`);
        return;
      }
      if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
        pushString(`[${obj.constructor?.name ?? 'Binary'} ${obj.byteLength} bytes]`, false);
        return;
      }
      push('{');
      let first = true;
      for (const key of Object.keys(obj)) {
        const child = readSafely(obj, key);
        if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue;
        if (!first) push(',');
        first = false;
        // A key longer than the room left ends the text before its value, so it is not tested.
        pushString(key, false);
        push(':');
        if (redact(key)) push(`"${REDACTED}"`);
        else walk(child, depth + 1);
      }
      push('}');
    } finally {
      seen.delete(obj);
    }
  };
  try {
    if (typeof value === 'string') return capText(redactedPrefix(value, max), max);
    walk(value, 0);
  } catch (error) {
    if (error !== OVER_BUDGET) return '"[Unserializable]"';
    return cutJson(out, max) + TRUNCATION_MARKER;
  }
  return out;
}

function readSafely(obj: object, key: string | number): unknown {
  try {
    return (obj as Record<string | number, unknown>)[key];
  } catch {
    return '[Unreadable]';
  }
}

/** A string value of a prompt variable, redacted by name (whole value) or by value (the secrets), and capped. */
export function promptVariableValue(name: string, value: unknown, maxLength: number, redact: KeyRedactor): string {
  if (redact(name)) return REDACTED;
  return serializeContent(value, maxLength, redact);
}
