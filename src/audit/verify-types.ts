/* The options and the result of verifying an audit trail (types only). */

export interface VerifyAuditOptions {
  /** The HMAC key of a keyed chain (a string is taken as UTF-8). Required for keyed chains; a plain chain given a key fails. */
  key?: string | Uint8Array;
  /**
   * Accept a chain whose last record is not a `close` record (its writer is running, or crashed and
   * has not restarted). Without it such a chain fails: its end cannot be told from a truncation.
   * @default false
   */
  allowOpen?: boolean;
  /** Hashes of records known to have been written (heads recorded earlier): each must still be in the trail. */
  heads?: string[];
}

export interface AuditChainReport {
  chain: string;
  /** The writer's base name of its first segment (`<name>-000001.jsonl`). */
  name: string;
  /** Files of the chain, in chain order. */
  files: string[];
  records: number;
  operations: number;
  lastSeq: number;
  lastHash: string;
  /** Whether the chain ends with a `close` record. */
  closed: boolean;
  /** Torn writes sealed. */
  seals: number;
  /** Outages recorded, and operations they dropped. */
  outages: number;
  dropped: number;
}

export interface AuditVerifyProblem {
  file: string;
  /** 1-based line; 0 when the problem is not one line's. */
  line: number;
  message: string;
}

export interface AuditVerifyResult {
  /** `ok`; `broken` (see `problem`); `usage`: the trail could not be checked as asked (see `usage`). */
  status: 'ok' | 'broken' | 'usage';
  records: number;
  segments: number;
  chains: AuditChainReport[];
  problem?: AuditVerifyProblem;
  usage?: string;
  /** Files skipped (empty `.jsonl` files left by a crash right after they were created). */
  skipped: string[];
  /**
   * What does not break a chain but may hide a removal: a chain the directory's registry lists of
   * which no segment is left, a chain it does not list, a directory without a registry.
   */
  warnings: AuditVerifyProblem[];
}

/** Options of {@link verifyCollectedAuditTrail}. */
export interface VerifyCollectedOptions {
  /** The HMAC key of keyed chains (a string is taken as UTF-8). A chain keyed otherwise is reported, not verified. */
  key?: string | Uint8Array;
  /** Hashes of records known to have been written (heads recorded earlier): each must be in the collected trail. */
  heads?: string[];
}

/** A problem of a collected trail: where (file and line of the export request; 0 when not one line's), whose, what. */
export interface AuditCollectedProblem {
  file: string;
  line: number;
  /** The replica (`service.instance.id`) and chain concerned, when it is one chain's. */
  replica?: string;
  chain?: string;
  seq?: number;
  message: string;
}

/** One chain found in a collected trail. */
export interface AuditCollectedChainReport {
  chain: string;
  name: string;
  /** The replicas (`service.instance.id`) whose records are in it, in chain order (more than one: a chain continued after a restart). */
  replicas: string[];
  /** Distinct records. */
  records: number;
  operations: number;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  /** Whether the last record is a `close` record (otherwise the replica runs, was killed, or its last records are not delivered yet). */
  closed: boolean;
  /** Copies of a record delivered more than once (retries): same seq, same bytes. */
  duplicates: number;
  /** Sequence ranges the replica recorded as not delivered (`undelivered` records): they are in its local trail. */
  undelivered: Array<[number, number]>;
  /** False when the chain could not be checked (keyed with a key not given). */
  verified: boolean;
}

export interface AuditCollectedVerifyResult {
  /** `ok`; `broken` (see `problems`); `usage`: the path could not be read (see `usage`). */
  status: 'ok' | 'broken' | 'usage';
  files: string[];
  /** Export requests (lines) read. */
  lines: number;
  /** Distinct audit records. */
  records: number;
  duplicates: number;
  /** Log records that are not audit records, skipped. */
  foreign: number;
  replicas: string[];
  chains: AuditCollectedChainReport[];
  problems: AuditCollectedProblem[];
  usage?: string;
}
