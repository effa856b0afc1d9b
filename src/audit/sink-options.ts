/* The audit sink's contract and the options of the append-only file sink (types only). */
import type { WrittenRecord } from './chain-writer';
import type { AuditFileSystem } from './file-system';
import type { AuditOperation } from './record';

/**
 * A second destination of the records the file sink writes (the OTLP sink): told of each record once
 * it is in the local trail, it delivers asynchronously and never blocks or fails the write.
 */
export interface AuditRecordShipper {
  /** Takes a record just written. Never throws, never blocks. */
  ship(record: WrittenRecord): void;
  /**
   * Called once by the file sink: `note` writes a record of the shipper's own into the chain (its
   * account of records it could not deliver) and says whether it could.
   */
  attach?(note: (body: { type: 'undelivered'; [field: string]: unknown }) => boolean): void;
  /** Called before the sink writes its `close` record: the last chance to `note` something. */
  beforeClose?(): void;
  /** Delivers what is queued (bounded in time). */
  flush(): Promise<void>;
  /** Delivers what is queued (bounded in time) and stops. */
  shutdown(): Promise<void>;
}

/** Where audit records go. The span processor calls `append` from `onEnd`: it must never throw. */
export interface AuditSink {
  /** Records one audited operation. Never throws; a record that cannot be written is kept for later. */
  append(operation: AuditOperation): void;
  /** False while records cannot be written (and after `close`). */
  readonly healthy: boolean;
  /**
   * When unhealthy, tries to write again (at most once per retry interval unless `force`); returns
   * whether the sink is healthy afterwards.
   */
  probe(force?: boolean): boolean;
  /** Makes everything appended so far durable (fsync), retrying a failed sink first. */
  flush(): Promise<void>;
  /** Flushes, writes the `close` record and releases the files. */
  close(): Promise<void>;
}

/**
 * When records reach the disk (survive a power loss or a kernel crash). Every record is written to
 * the file (the kernel) before `append` returns, so a crash of the process loses nothing either way.
 * - `'record'`: `fsync` after every record, before `append` returns — before the MCP response is sent.
 * - `{ intervalMs }`: `fsync` every `intervalMs` when something was written; a machine crash loses at
 *   most that window.
 */
export type AuditDurability = 'record' | { intervalMs: number };

export interface AppendOnlyFileSinkOptions {
  /** The directory of the audit trail; created (mode 0700) when missing. Keep it apart from any other log. */
  directory: string;
  /**
   * The chain's base name: segments are `<name>-000001.jsonl`, `<name>-000002.jsonl`… and the writer's
   * lock is `<name>.lock`. Letters, digits, `.`, `_` and `-` only. With an explicit name, a restarted
   * process continues the same chain; a second live writer with that name is refused (the constructor throws).
   * @default `audit-<hostname>-<pid>-<start time>`: unique per process
   */
  name?: string;
  /**
   * A new segment starts when the current one would grow past this many bytes.
   * @default 67108864 (64 MiB)
   */
  maxSegmentBytes?: number;
  /**
   * A new segment starts when the UTC day changes.
   * @default true
   */
  rotateDaily?: boolean;
  /** @default 'record' */
  durability?: AuditDurability;
  /**
   * Keys the chain: hashes become HMAC-SHA-256 with this key, so that someone who can write the files
   * but does not have the key cannot rebuild a chain after editing it. A string is taken as UTF-8.
   */
  hmacKey?: string | Uint8Array;
  /**
   * Continue, at start, the most recent chain in the directory whose writer is gone (crashed or shut
   * down; default-named chains only), so that one chain runs across restarts.
   * @default true without `name`; with `name` the sink continues that name's own chain
   */
  adopt?: boolean;
  /**
   * Records kept in memory while the trail cannot be written; past this, records are counted (in the
   * `outage` record written on recovery) and dropped.
   * @default 10000
   */
  maxBacklog?: number;
  /**
   * While unhealthy, retry writing every this many milliseconds (and `probe()` is rate-limited to
   * this interval). 0: no background retry, and every `probe()` tries.
   * @default 1000
   */
  retryIntervalMs?: number;
  /**
   * A second destination of every record written (see `AuditSpanProcessorOptions.otlp`, which makes
   * an OTLP one). The local trail stays the source of truth: what it cannot deliver stays there.
   */
  ship?: AuditRecordShipper;
  /** Test seam: the file operations to use (defaults to `node:fs`). */
  fs?: Partial<AuditFileSystem>;
  /** Test seam: the clock (milliseconds since the epoch) for record times and daily rotation. */
  now?: () => number;
}
