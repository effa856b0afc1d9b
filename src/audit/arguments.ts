/*
 * What an audit record says of a request's arguments: always the SHA-256 of their canonical JSON as
 * sent; by opt-in the canonical JSON itself, with secret-looking keys redacted and cut at a length.
 */
import { createKeyRedactor, REDACTED, type KeyRedactor } from '../content';
import { canonicalJson } from './canonical';
import { errorCode } from './file-system';
import { sha256Hex, type AuditArguments } from './record';

export interface ArgumentsPolicy {
  /** Put the (redacted, cut) arguments themselves in records. */
  record: boolean;
  maxLength: number;
  /** Which keys are secrets (`undefined`: redaction turned off explicitly). */
  redact: KeyRedactor | undefined;
}

/** The redaction of an audit processor: the built-in secret keys plus `redactKeys`, unless turned off. */
export function argumentsRedactor(redactArguments: boolean | undefined, redactKeys: ReadonlyArray<string | RegExp> | undefined): KeyRedactor | undefined {
  return redactArguments === false ? undefined : createKeyRedactor(redactKeys);
}

/** The arguments of a request: those of `tools/call` and `prompts/get`, else its params without `_meta`. */
function argumentsValue(method: string, params: unknown): unknown {
  if (params === null || typeof params !== 'object') return undefined;
  if (method === 'tools/call' || method === 'prompts/get') return (params as { arguments?: unknown }).arguments;
  const { _meta, ...rest } = params as Record<string, unknown>;
  void _meta;
  return rest;
}

/**
 * The digest (and, by opt-in, the value) of what the request asked with. Members in canonical order.
 * The digest is of the arguments as sent, so that it still proves what was sent; `json` is redacted
 * (`redacted: true` then says that it no longer hashes to the digest).
 */
export function auditArguments(method: string, params: unknown, policy: ArgumentsPolicy): AuditArguments | undefined {
  const value = argumentsValue(method, params);
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = canonicalJson(value);
  } catch (error) {
    return { error: errorCode(error) };
  }
  const sha256 = sha256Hex(json);
  if (!policy.record) return { sha256 };
  const redacted = policy.redact !== undefined ? redactJson(json, policy.redact) : undefined;
  const shown = redacted ?? json;
  const cut = shown.length > policy.maxLength;
  const text = cut ? shown.slice(0, policy.maxLength) : shown;
  if (redacted !== undefined) return cut ? { json: text, redacted: true, sha256, truncated: true } : { json: text, redacted: true, sha256 };
  return cut ? { json: text, sha256, truncated: true } : { json: text, sha256 };
}

/** The canonical JSON `json` with the values of secret keys replaced by `[REDACTED]`; `undefined` when none is. */
function redactJson(json: string, redact: KeyRedactor): string | undefined {
  let changed = false;
  const walk = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(walk);
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (redact(key)) {
        changed = true;
        out[key] = REDACTED;
      } else out[key] = walk(member);
    }
    return out;
  };
  const result = walk(JSON.parse(json));
  return changed ? canonicalJson(result) : undefined;
}
