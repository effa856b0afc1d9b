/*
 * The files of one writer in the audit directory: the directory itself (created level by level, mode
 * 0700), its segment files (created exclusively, owner-only, append-only, numbered per writer), and
 * the low-level reads, writes and syncs the sink makes on them.
 */
import { join } from 'node:path';
import { safeMkdir } from '../safe-mkdir';
import { auditDiag } from './diagnostics';
import { errorCode, type AuditFileSystem } from './file-system';
import { segmentFileName } from './record';

/** A segment file opened for appending. */
export interface OpenSegment {
  fd: number;
  file: string;
}

export class SegmentFiles {
  /** The highest segment number of this writer's base name used so far. */
  fileNumber = 0;
  private checkedDirectoryMode = false;

  constructor(
    readonly fs: AuditFileSystem,
    readonly directory: string,
    readonly name: string,
  ) {}

  path(file: string): string {
    return join(this.directory, file);
  }

  /** Creates the directory when missing (each missing level, mode 0700); warns once when others can read it. */
  ensureDirectory(): void {
    safeMkdir(this.directory, 0o700, this.fs);
    if (this.checkedDirectoryMode) return;
    this.checkedDirectoryMode = true;
    try {
      const mode = this.fs.statSync(this.directory).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        auditDiag.warn(`${this.directory} is accessible to others (mode ${mode.toString(8)}); 0700 is recommended`);
      }
    } catch {
      /* reported by the next write */
    }
  }

  /** Creates the next file of this writer's own base name. */
  createOwn(): OpenSegment {
    for (let attempt = 0; attempt < 1000; attempt++) {
      this.fileNumber += 1;
      const file = segmentFileName(this.name, this.fileNumber);
      const fd = this.create(file, false);
      if (fd !== undefined) return { fd, file };
    }
    throw new Error(`audit: no free segment name for ${this.name} in ${this.directory}`);
  }

  /**
   * Creates `file` exclusively (`O_CREAT | O_EXCL | O_APPEND`, mode 0600). An existing empty file (left
   * by a crash right after it was created) is taken, and so is an existing `required` one (a name
   * promised by a rotate record, holding no record); otherwise `undefined`: try another name.
   */
  create(file: string, required: boolean): number | undefined {
    const path = this.path(file);
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'ax', 0o600);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      // A name promised by a rotate record was created by a writer that stopped before its header
      // was whole: continue it (anything in it is sealed first). Any other existing name: try another.
      if (!required && this.fs.statSync(path).size !== 0) return undefined;
      fd = this.fs.openSync(path, 'a', 0o600);
    }
    this.syncDirectory();
    return fd;
  }

  /** The bytes of `file` from `start` to `end` (fewer if the file is shorter). */
  readRange(file: string, start: number, end: number): Buffer {
    const fd = this.fs.openSync(this.path(file), 'r');
    try {
      const buffer = Buffer.alloc(end - start);
      let read = 0;
      while (read < buffer.length) {
        const n = this.fs.readSync(fd, buffer, read, buffer.length - read, start + read);
        if (n <= 0) break;
        read += n;
      }
      return buffer.subarray(0, read);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  /** Makes the directory's entries durable (a new file's name, not only its contents). */
  syncDirectory(): void {
    try {
      const fd = this.fs.openSync(this.directory, 'r');
      try {
        this.fs.fsyncSync(fd);
      } finally {
        this.fs.closeSync(fd);
      }
    } catch {
      // Not every platform can fsync a directory; the file's own fsync still holds its contents.
    }
  }

  closeQuietly(fd: number | undefined): void {
    if (fd === undefined) return;
    try {
      this.fs.closeSync(fd);
    } catch {
      /* already gone */
    }
  }
}

/** Writes all of `bytes` (a regular file may take fewer bytes per call, e.g. when the disk fills). */
export function writeAll(fs: AuditFileSystem, fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const n = fs.writeSync(fd, bytes, offset, bytes.length - offset);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += n;
  }
}
