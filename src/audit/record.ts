/*
 * The audit record format and its hash chain, shared by the file sink (which writes records) and the
 * verifier (which checks them).
 *
 * Every record is one line: the canonical JSON (see `canonical.ts`) of an object with
 *   v     format version (1)
 *   seq   position in the chain: 1 for the first record, then +1 for every record, across segments
 *   ts    when the record was made (ISO 8601, UTC, milliseconds); for `op` records, when the operation ended
 *   type  `segment` | `op` | `rotate` | `close` | `seal` | `outage` | `undelivered`
 *   prev  the `hash` of the previous record in the chain (64 zeros for the first)
 *   hash  hex SHA-256 of the canonical JSON of the record without `hash` — or, when the chain is
 *         keyed, hex HMAC-SHA-256 with the key over the same bytes
 * and the fields of its type.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical';

export const AUDIT_FORMAT_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

export type AuditHashAlgorithm = 'sha256' | 'hmac-sha256';
export type AuditRecordType = 'segment' | 'op' | 'rotate' | 'close' | 'seal' | 'outage' | 'undelivered';
export const AUDIT_RECORD_TYPES: ReadonlySet<string> = new Set<AuditRecordType>(['segment', 'op', 'rotate', 'close', 'seal', 'outage', 'undelivered']);

/** Who asked for an operation. Never holds a credential. */
export interface AuditActor {
  /** The MCP session id of the transport (`Mcp-Session-Id` for Streamable HTTP). */
  session?: string;
  /** The MCP client's self-description from `initialize` (server-side records). */
  client?: { name?: string; version?: string };
  /** From the transport's `authInfo`: the OAuth client id. */
  clientId?: string;
  /** From `authInfo.extra.sub` (or `.subject`): the authenticated user, when the auth layer provides it. */
  subject?: string;
  /** From `authInfo.scopes`. */
  scopes?: string[];
  /** The network peer (`client.address`), for HTTP transports. */
  address?: string;
}

/** What the arguments of an operation were: a digest always, the value only by opt-in. */
export interface AuditArguments {
  /** Hex SHA-256 of the canonical JSON of the arguments. */
  sha256?: string;
  /** The canonical JSON of the arguments, secret-looking keys redacted, cut at the configured length (opt-in). */
  json?: string;
  /** Present (true) when keys were redacted in `json`: it then no longer hashes to `sha256`, which is of the arguments as sent. */
  redacted?: boolean;
  /** Present (true) when `json` was cut. */
  truncated?: boolean;
  /** Why there is no digest (arguments that are not JSON: cycles, BigInt). */
  error?: string;
}

/** An audited operation, as the span processor hands it to a sink (the sink adds v, seq, prev, hash). */
export interface AuditOperation {
  type: 'op';
  /** When the operation ended. */
  ts: string;
  /** When it started. */
  start: string;
  durationMs: number;
  /** `server`: a request this process received; `client`: one it sent. */
  side: 'server' | 'client';
  method: string;
  tool?: string;
  prompt?: string;
  resource?: string;
  requestId?: string;
  /** `refused`: the audit trail refused the request (failure policy `reject`) — the handler never ran. */
  outcome: 'ok' | 'error' | 'refused';
  /** When the outcome is not `ok`: the span's `error.type`, and the JSON-RPC error code if any. */
  error?: { type: string; code?: number };
  actor?: AuditActor;
  /** Client-side records: the server's self-description. */
  server?: { name?: string; version?: string };
  args?: AuditArguments;
  traceId: string;
  spanId: string;
}

/** Any parsed record: the common fields and whatever its type adds. */
export interface AuditRecord {
  v: number;
  seq: number;
  ts: string;
  type: AuditRecordType;
  prev: string;
  hash: string;
  [field: string]: unknown;
}

/** The hash of `record` (which must not contain `hash`): SHA-256, or HMAC-SHA-256 with `key`. */
export function recordHash(record: object, key: Uint8Array | undefined): string {
  return canonicalHash(canonicalJson(record), key);
}

/** The hash of a record whose canonical JSON (without its `hash`) is `canonical`. */
export function canonicalHash(canonical: string, key: Uint8Array | undefined): string {
  return key !== undefined
    ? createHmac('sha256', key).update(canonical, 'utf8').digest('hex')
    : sha256Hex(canonical);
}

/**
 * A short public name of an HMAC key, written in segment headers so that the verifier can tell a
 * wrong key from an edited record: the first 16 hex digits of HMAC-SHA-256(key, "mcp-audit-key-id").
 */
export function keyIdOf(key: Uint8Array): string {
  return createHmac('sha256', key).update('mcp-audit-key-id').digest('hex').slice(0, 16);
}

/** Node's one-shot `crypto.hash` (20.12+, 21.7+): no Hash object per digest. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

export function sha256Hex(bytes: Uint8Array | string): string {
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', bytes, 'hex') : createHash('sha256').update(bytes).digest('hex');
}

/** A key given as a string is its UTF-8 bytes. */
export function keyBytes(key: string | Uint8Array | undefined): Buffer | undefined {
  if (key === undefined) return undefined;
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (bytes.length === 0) throw new TypeError('audit: an HMAC key must not be empty');
  return bytes;
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** `<base>-<NNNNNN>.jsonl`: the file name of segment `n` (1-based, per writer) of a chain base name. */
export function segmentFileName(base: string, n: number): string {
  return `${base}-${String(n).padStart(6, '0')}.jsonl`;
}

const SEGMENT_NAME = /^(.+)-(\d{6,})\.jsonl$/;

/** The base name and number of a segment file name, or `undefined` for other files. */
export function parseSegmentFileName(name: string): { base: string; n: number } | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  return { base: match[1]!, n: Number(match[2]) };
}
