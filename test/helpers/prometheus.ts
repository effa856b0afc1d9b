/*
 * A real Prometheus server for tests: finding the binary, free loopback ports, child processes with
 * their output kept for failure messages, starting Prometheus on a scrape config, and instant
 * queries against its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from './sdk';

/** Upper bound for each wait: a process starting, Prometheus catching up with the calls. */
export const WAIT_MS = 30_000;
export const POLL_MS = 250;

/** `/usr/bin/prometheus`, else `prometheus` in PATH, else undefined. */
export function findPrometheus(): string | undefined {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')];
  for (const dir of dirs) {
    const candidate = join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const PROMETHEUS = findPrometheus();
export const PROMETHEUS_SKIP: string | false =
  PROMETHEUS === undefined
    ? 'Prometheus is not installed: no /usr/bin/prometheus and no prometheus in PATH (apt-get install prometheus; .ci/run does)'
    : false;

/** `n` distinct free loopback ports (held open together, so they differ, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const server = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A child process with its output kept for failure messages. */
export class Child {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.proc = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.proc.once('error', (error) => {
        this.stderr += `\nspawn error: ${error.message}`;
        this.exit ??= { code: null, signal: null };
        resolve();
      });
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  describe(): string {
    const status = this.exit === undefined ? 'running' : `exited (code ${this.exit.code}, signal ${this.exit.signal})`;
    return `${this.name} ${status}\n--- stdout ---\n${this.stdout.slice(-4000)}\n--- stderr ---\n${this.stderr.slice(-4000)}`;
  }

  /** Waits until `ready()` holds; fails if the process exits first or after WAIT_MS. */
  async waitUntil(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (this.exit !== undefined) throw new Error(`${this.name} exited while waiting for ${what}\n${this.describe()}`);
      if (await ready()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}\n${this.describe()}`);
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.exit !== undefined) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}


/**
 * Starts Prometheus scraping `targets` (`host:port`) as job `job` every `scrapeInterval`, its data in
 * `dir`, listening on 127.0.0.1:`port`; resolves once it is ready.
 */
export async function startPrometheus(options: { dir: string; port: number; job: string; targets: string[]; scrapeInterval?: string }): Promise<Child> {
  const interval = options.scrapeInterval ?? '1s';
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    'scrape_configs:',
    `  - job_name: ${options.job}`,
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(options.dir, 'prometheus.yml'), config);
  mkdirSync(join(options.dir, 'data'));
  const prometheus = new Child(
    'prometheus',
    PROMETHEUS!,
    [
      `--config.file=${join(options.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
    ],
    { PATH: process.env.PATH ?? '', HOME: options.dir },
  );
  await prometheus.waitUntil('Prometheus to be ready', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${options.port}/-/ready`)).status === 200;
    } catch {
      return false;
    }
  });
  return prometheus;
}

/**
 * Runs an instant query (at `time`, seconds since the epoch, when given); the result vector, or
 * undefined when Prometheus did not answer. Throws when Prometheus rejects the query.
 */
export async function instantQuery(port: number, promql: string, time?: number): Promise<Sample[] | undefined> {
  let body: { status: string; data?: { resultType: string; result: Sample[] }; error?: string };
  try {
    const url = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}${time !== undefined ? `&time=${time}` : ''}`;
    body = (await (await fetch(url)).json()) as typeof body;
  } catch {
    return undefined;
  }
  if (body.status !== 'success') throw new Error(`Prometheus rejected ${promql}: ${body.error}`);
  if (body.data!.resultType !== 'vector') throw new Error(`${promql}: a ${body.data!.resultType}, not a vector`);
  return body.data!.result;
}
