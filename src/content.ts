/*
 * Capture of user content (tool arguments and results, prompt variables) for span attributes: only
 * when the user opted in, serialised to JSON-like text that never throws (cycles, BigInt, getters
 * that throw, exotic objects), secret-looking keys redacted, and capped in length. Serialisation
 * stops as soon as the cap is reached, so a huge result costs no more than the cap.
 */

export const REDACTED = '[REDACTED]';
export const TRUNCATION_MARKER = '…[truncated]';

const BUILT_IN_SECRET_KEYS =
  /authorization|passw(or)?d|passwd|secret|token|api[-_ ]?key|apikey|cookie|credential|private[-_ ]?key|session[-_ ]?key|x-api-key/i;

/** Decides whether an object key names a secret. */
export type KeyRedactor = (key: string) => boolean;

export function createKeyRedactor(extra: ReadonlyArray<string | RegExp> | undefined): KeyRedactor {
  const patterns: RegExp[] = [BUILT_IN_SECRET_KEYS];
  for (const entry of extra ?? []) {
    if (entry instanceof RegExp) patterns.push(entry);
    else if (typeof entry === 'string' && entry !== '') {
      patterns.push(new RegExp(entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
    }
  }
  return (key) => {
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      if (pattern.test(key)) return true;
    }
    return false;
  };
}

class Budget extends Error {}

/**
 * `value` as JSON text with redaction, cut to at most `maxLength` characters (plus the truncation
 * marker). Strings are returned as they are (capped), not quoted.
 */
export function serializeContent(value: unknown, maxLength: number, redact: KeyRedactor): string {
  if (typeof value === 'string') return cap(value, maxLength);
  const parts: string[] = [];
  let length = 0;
  const seen = new Set<object>();
  const push = (text: string) => {
    parts.push(text);
    length += text.length;
    if (length > maxLength) throw new Budget();
  };
  const walk = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'string':
        push(JSON.stringify(v));
        return;
      case 'number':
        push(Number.isFinite(v) ? String(v) : 'null');
        return;
      case 'boolean':
        push(v ? 'true' : 'false');
        return;
      case 'bigint':
        push(JSON.stringify(`${v.toString()}n`));
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
    if (depth > 32) {
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
        push(JSON.stringify(Number.isNaN(obj.getTime()) ? null : obj.toISOString()));
        return;
      }
      if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
        push(`"[${obj.constructor?.name ?? 'Binary'} ${obj.byteLength} bytes]"`);
        return;
      }
      push('{');
      let first = true;
      for (const key of Object.keys(obj)) {
        const child = readSafely(obj, key);
        if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue;
        if (!first) push(',');
        first = false;
        push(JSON.stringify(key));
        push(':');
        if (redact(key)) push(JSON.stringify(REDACTED));
        else walk(child, depth + 1);
      }
      push('}');
    } finally {
      seen.delete(obj);
    }
  };
  try {
    walk(value, 0);
  } catch (error) {
    if (!(error instanceof Budget)) return '"[Unserializable]"';
    return parts.join('').slice(0, maxLength) + TRUNCATION_MARKER;
  }
  return parts.join('');
}

function readSafely(obj: object, key: string | number): unknown {
  try {
    return (obj as Record<string | number, unknown>)[key];
  } catch {
    return '[Unreadable]';
  }
}

function cap(text: string, maxLength: number): string {
  return text.length > maxLength ? text.slice(0, maxLength) + TRUNCATION_MARKER : text;
}

/** A string value of a prompt variable, redacted by name and capped. */
export function promptVariableValue(name: string, value: unknown, maxLength: number, redact: KeyRedactor): string {
  if (redact(name)) return REDACTED;
  return serializeContent(value, maxLength, redact);
}
