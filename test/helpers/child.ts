/*
 * A real Node child process for the zero-code tests: its environment without the caller's OTEL_*
 * or NODE_OPTIONS, its output collected, JSON-RPC requests written to its standard input, its exit
 * awaited with a hard limit (then it is killed, and the wait rejects).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, REPO_ROOT } from './sdk';

/** The inherited environment minus any OTEL_* or NODE_OPTIONS of the caller's shell, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = childEnv();
  for (const key of Object.keys(env)) {
    if (key.startsWith('OTEL_') || key === 'NODE_OPTIONS') delete env[key];
  }
  return { ...env, ...extra };
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningChild {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Writes one JSON-RPC message as a line on standard input. */
  send(message: object): void;
  /** Resolves with the first stdout line (parsed) that answers request `id`. */
  response(id: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolve once stdout / stderr matches `pattern`, with the match. */
  stdoutMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stderrMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves when the process has exited (it is killed after `limitMs`, and this rejects). */
  exited(limitMs: number): Promise<ChildExit>;
}

const running = new Set<ChildProcess>();

/** Kills every child still running (for `after` hooks). */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

function waitFor<T>(check: () => T | undefined, onChange: (listener: () => void) => () => void, timeoutMs: number, what: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const found = check();
    if (found !== undefined) return resolve(found);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
    }, timeoutMs);
    const off = onChange(() => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

export function startChild(args: string[], env: NodeJS.ProcessEnv): RunningChild {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let exit: ChildExit | undefined;
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };
  const onChange = (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
    changed();
  });
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    changed();
  });
  child.stdin!.on('error', () => {
    /* the child may exit before reading */
  });
  child.on('close', (code, signal) => {
    running.delete(child);
    exit = { code, signal, stdout, stderr };
    changed();
  });
  const describe = (): string => `stdout: ${stdout}\nstderr: ${stderr}`;
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    send(message) {
      child.stdin!.write(`${JSON.stringify(message)}\n`);
    },
    response(id, timeoutMs = 20_000) {
      const find = (): Record<string, unknown> | undefined => {
        const lines = stdout.split('\n');
        lines.pop(); // not yet a whole line
        for (const line of lines) {
          if (line.trim() === '') continue;
          const message = JSON.parse(line) as Record<string, unknown>;
          if (message.id === id) return message;
        }
        return undefined;
      };
      return waitFor(find, onChange, timeoutMs, () => `the answer to request ${id}; ${describe()}`);
    },
    stdoutMatch(pattern, timeoutMs = 20_000) {
      return waitFor(() => pattern.exec(stdout) ?? undefined, onChange, timeoutMs, () => `${pattern} on stdout; ${describe()}`);
    },
    stderrMatch(pattern, timeoutMs = 20_000) {
      return waitFor(() => pattern.exec(stderr) ?? undefined, onChange, timeoutMs, () => `${pattern} on stderr; ${describe()}`);
    },
    exited(limitMs) {
      return waitFor(() => exit, onChange, limitMs, () => `the process to exit; ${describe()}`).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      });
    },
  };
}

/** `initialize`, `notifications/initialized` and one `tools/call echo`, as a host sends them. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'test-host', version: '1.0.0' } },
};
export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
export function echoCall(id: number, text: string): object {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } };
}
