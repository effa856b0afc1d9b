/* The file operations of the audit sink, injectable so that tests can make any of them fail. */
import * as fs from 'node:fs';

/**
 * The file operations the audit file sink uses — all of them, so that a test can make any one fail
 * (a full disk, a permission denied) where the real file system cannot be made to. Production code
 * never passes one: the default is `node:fs`.
 */
export interface AuditFileSystem {
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  /** Writes at the end of the file (every file is opened with `O_APPEND`). */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  fstatSync(fd: number): { size: number; nlink: number };
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Creates one directory level (the sink creates missing parents one by one, never recursively). */
  mkdirSync(path: string, options: { mode: number; recursive?: boolean }): unknown;
  readdirSync(path: string): string[];
  statSync(path: string): { size: number; mode: number; mtimeMs: number };
  readFileSync(path: string, encoding: 'utf8'): string;
  unlinkSync(path: string): void;
}

export const nodeFileSystem: AuditFileSystem = {
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fstatSync: (fd) => fs.fstatSync(fd),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  mkdirSync: (path, options) => fs.mkdirSync(path, options),
  readdirSync: (path) => fs.readdirSync(path),
  statSync: (path) => fs.statSync(path),
  readFileSync: (path, encoding) => fs.readFileSync(path, encoding),
  unlinkSync: (path) => fs.unlinkSync(path),
};

/** The `code` of a Node system error (`ENOSPC`, `EACCES`…), else the error's name. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
