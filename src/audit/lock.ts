/*
 * One writer per chain: `<name>.lock` next to the segments, created exclusively (`wx`), holding the
 * writer's pid, host, start time and a token of its own. A lock whose writer is gone is stale and
 * taken over; a live writer's is never.
 */
import { join } from 'node:path';
import { auditDiag } from './diagnostics';
import { errorCode, type AuditFileSystem } from './file-system';

/** A lock file that does not parse is taken as stale once it is this old (a writer fills it at once). */
const UNREADABLE_LOCK_STALE_MS = 10_000;

/** Thrown when another live process (or sink) writes the same chain. */
export class AuditLockError extends Error {
  readonly code = 'EAUDITLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'AuditLockError';
  }
}

/** Who writes a chain. */
export interface AuditWriter {
  host: string;
  pid: number;
  started: string;
}

interface LockOwner extends AuditWriter {
  token: string | undefined;
}

/** Lock files held by the sinks of this process: a lock naming our pid that is not here is a former process's. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** The locks one sink takes in one directory. */
export class ChainLocks {
  constructor(
    private readonly fs: AuditFileSystem,
    private readonly directory: string,
    private readonly writer: AuditWriter,
    private readonly token: string,
  ) {}

  path(base: string): string {
    return join(this.directory, `${base}.lock`);
  }

  /** Whether this sink's lock of `base` is still on disk (the directory may have been removed). */
  holds(base: string): boolean {
    const owner = this.readOwner(this.path(base));
    return owner !== undefined && owner !== 'stale' && owner.token === this.token;
  }

  /**
   * Takes the lock of `base`. A lock whose process is gone (same host and pid not running — or our
   * own pid but no sink of this process holds it) is replaced. When a live writer holds it: `false`,
   * or with `strict` an {@link AuditLockError}.
   */
  take(base: string, strict: boolean): boolean {
    const path = this.path(base);
    const { pid, host, started } = this.writer;
    const content = `${JSON.stringify({ pid, host, started, name: base, token: this.token })}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = this.fs.openSync(path, 'wx', 0o600);
        try {
          const bytes = Buffer.from(content, 'utf8');
          let written = 0;
          while (written < bytes.length) written += this.fs.writeSync(fd, bytes, written, bytes.length - written);
        } finally {
          this.fs.closeSync(fd);
        }
        heldHere.add(path);
        return true;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const owner = this.readOwner(path);
      if (owner === undefined) continue; // removed meanwhile: try again
      if (owner === 'stale') {
        auditDiag.warn(`removing the unreadable stale lock ${path}`);
        this.unlink(path);
        continue;
      }
      if (owner.token === this.token) {
        heldHere.add(path);
        return true;
      }
      const gone = owner.host === host && (owner.pid === process.pid ? !heldHere.has(path) : !isAlive(owner.pid));
      if (gone) {
        auditDiag.warn(`taking over the lock ${path} of pid ${owner.pid}, which is not running`);
        this.unlink(path);
        continue;
      }
      if (!strict) return false;
      throw new AuditLockError(
        `AppendOnlyFileSink: the chain ${base} in ${this.directory} is being written by pid ${owner.pid} on ${owner.host} ` +
          `(since ${owner.started}; lock ${path}). Two writers must not share a chain: give this one another name. ` +
          'If that process is gone (on another host), remove the lock file.',
      );
    }
    if (!strict) return false;
    throw new AuditLockError(`AppendOnlyFileSink: could not take the lock ${path}`);
  }

  /** Removes the lock of `base` if it is this sink's. */
  release(base: string): void {
    const path = this.path(base);
    heldHere.delete(path);
    if (this.holds(base)) this.unlink(path);
  }

  private readOwner(path: string): LockOwner | 'stale' | undefined {
    let text: string;
    try {
      text = this.fs.readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as Partial<LockOwner>;
      if (Number.isSafeInteger(parsed.pid) && typeof parsed.host === 'string' && typeof parsed.started === 'string') {
        return { pid: parsed.pid!, host: parsed.host, started: parsed.started, token: typeof parsed.token === 'string' ? parsed.token : undefined };
      }
    } catch {
      /* below */
    }
    try {
      if (Date.now() - this.fs.statSync(path).mtimeMs > UNREADABLE_LOCK_STALE_MS) return 'stale';
    } catch {
      return undefined;
    }
    // Being written by its owner right now: held.
    return { pid: -1, host: '?', started: '?', token: undefined };
  }

  private unlink(path: string): void {
    try {
      this.fs.unlinkSync(path);
    } catch {
      /* gone already */
    }
  }
}
