/*
 * Child Node processes for tests: start one from the repository root with its output collected, wait for
 * it to exit (killing it when it will not), read the spans it wrote, and the environment of a child that exports OTLP to a
 * loopback receiver. Every child started here is tracked: `killChildren()` ends those still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, fixture, REPO_ROOT } from './sdk';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Waits for `proc` to exit; after `killAfterMs`, kills it (SIGKILL) and resolves with that exit. Never
 * rejects: the caller asserts on the exit.
 */
export function waitForExit(proc: ChildProcess, killAfterMs: number): Promise<Exit> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

export interface NodeChild {
  proc: ChildProcess;
  /** stdout as it arrived, chunk by chunk. */
  stdout: Buffer[];
  /** stdout so far, as text. */
  stdoutText(): string;
  /** stderr so far, as text. */
  stderr(): string;
  /** Settles when the process has exited and its output streams closed. */
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();

/** Kills (SIGKILL) every child `startNode` started that is still running: for an `after` hook. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** `node <args>` in the repository root, stdout and stderr collected; stdin a pipe unless `ignore`. */
export function startNode(args: string[], env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore' = 'pipe'): NodeChild {
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(proc);
  const stdout: Buffer[] = [];
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) =>
    proc.on('close', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    }),
  );
  return { proc, stdout, stdoutText: () => Buffer.concat(stdout).toString('utf8'), stderr: () => stderr, exited };
}

export interface Finished extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * The exit of `child` with all it wrote; after `failMs` (counted from this call), kills it (SIGKILL)
 * and rejects.
 */
export function finishWithin(child: NodeChild, failMs: number, what: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${failMs} ms; stderr:\n${child.stderr()}`));
    }, failMs);
    void child.exited.then((exit) => {
      clearTimeout(timer);
      resolve({ ...exit, stdout: child.stdoutText(), stderr: child.stderr() });
    });
  });
}

/**
 * Waits for `child` to end by itself; after `graceMs`, asks it with SIGTERM; rejects after `failMs`
 * (the child is left to `killChildren`).
 */
export async function exitOrTerminate(child: NodeChild, graceMs: number, failMs: number): Promise<Exit> {
  const term = setTimeout(() => child.proc.kill('SIGTERM'), graceMs);
  const fail = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not exit; stderr:\n${child.stderr()}`)), failMs);
    void child.exited.then(() => clearTimeout(timer));
  });
  try {
    return await Promise.race([child.exited, fail]);
  } finally {
    clearTimeout(term);
  }
}

/** A finished span as a child process writes it to its SPAN_FILE (test/fixtures/otel-child.cjs). */
export interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  links: { traceId: string; spanId: string }[];
  events: string[];
}

/** The spans a child wrote to `file` so far (none when there is no file yet). */
export function readChildSpans(file: string): ChildSpan[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(fixture('otel-child.cjs')) as { readSpanFile(file: string): ChildSpan[] }).readSpanFile(file);
}

/**
 * The environment of a child exporting OTLP/HTTP JSON to `endpoint`, exporting soon (metrics every
 * 200 ms, spans after 50 ms, no logs): the inherited one without the caller's OTEL_* and NODE_OPTIONS.
 */
export function otlpChildEnv(endpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = childEnv();
  for (const key of Object.keys(env)) if (key.startsWith('OTEL_') || key === 'NODE_OPTIONS') delete env[key];
  return {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_LOGS_EXPORTER: 'none',
    ...extra,
  };
}
