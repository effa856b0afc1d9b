/*
 * The audit suites' shared setup: temporary directories removed after the file, diagnostics captured,
 * an instrumented in-memory session (instrumentation, provider, audit processor, server and client),
 * the audited stdio server in a child process, operations to append, segments read back, and a
 * loopback OTLP logs collector writing what a collector's file exporter would.
 */
import { after, before, beforeEach } from 'node:test';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation } from '../../src';
import { AuditSpanProcessor, type AppendOnlyFileSink, type AuditOperation, type AuditSpanProcessorOptions } from '../../src/audit';
import { mcpSdk, type McpSdk } from './mcp';
import { closeServer } from './net';
import { setupOtel, waitFor, type FinishedSpan, type TestOtel } from './otel';
import { childEnv, fixture } from './sdk';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The audited MCP server and client of `test/fixtures/audit-scenario.cjs`, and its trail readers. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const auditScenario: any = require(fixture('audit-scenario.cjs'));

/** A maker of temporary directories (`<tmp>/<prefix>XXXXXX`), all removed (made writable first) after the file. */
export function auditTempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(() => {
    for (const dir of made) {
      try {
        chmodSync(dir, 0o700);
      } catch {
        /* gone */
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

/** Diagnostics as `level: message args…` (error, warn, info), emptied before each test. */
export function captureDiag(): string[] {
  const messages: string[] = [];
  before(() => {
    const push = (level: string) => (message: string, ...args: unknown[]) => {
      messages.push(`${level}: ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ')}`);
    };
    diag.setLogger(
      { error: push('error'), warn: push('warn'), info: push('info'), debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true },
    );
  });
  beforeEach(() => {
    messages.length = 0;
  });
  return messages;
}

export interface AuditSessionOptions {
  audit?: Partial<AuditSpanProcessorOptions>;
  sampler?: sdkTrace.Sampler;
  /** Sent with every client message (as an HTTP auth layer would set it). */
  authInfo?: unknown;
  sessionId?: string;
  processors?: sdkTrace.SpanProcessor[];
}

export interface AuditSession {
  client: any;
  server: any;
  /** Texts the `note` tool handled. */
  handled: string[];
  /** The audit directory (`directory` of the processor unless `audit.file` or `audit.sink` is given). */
  auditDir: string;
  processor: AuditSpanProcessor;
  sink: AppendOnlyFileSink;
  /** The spans exported (filled by `close`: the exporter forgets them at shutdown). */
  spans: FinishedSpan[];
  /** Calls the `note` tool; its answer. */
  note(text: string): Promise<string>;
  close(): Promise<void>;
}

export interface AuditSessions {
  otel: TestOtel;
  instrumentation: McpInstrumentation;
  /** The SDK under test (loaded in `before`, after the instrumentation). */
  readonly mcp: McpSdk;
  start(options?: AuditSessionOptions): Promise<AuditSession>;
}

/**
 * The OpenTelemetry SDK, the instrumentation and the MCP SDK for in-memory audited sessions: each
 * `start` gives a provider with an audit processor (into `<tempDir>/audit`) and an in-memory exporter,
 * and connects the audited server to a client.
 */
export function auditSessions(tempDir: () => string): AuditSessions {
  const otel = setupOtel();
  const instrumentation = new McpInstrumentation();
  let mcp: McpSdk | undefined;
  before(() => {
    mcp = mcpSdk();
  });
  const sessions: AuditSessions = {
    otel,
    instrumentation,
    get mcp(): McpSdk {
      if (mcp === undefined) throw new Error('the MCP SDK is loaded in before()');
      return mcp;
    },
    start: async (options = {}) => {
      const { Client, InMemoryTransport } = sessions.mcp as any;
      const auditDir = join(tempDir(), 'audit');
      const processor = new AuditSpanProcessor({ directory: auditDir, ...options.audit });
      const exporter = new sdkTrace.InMemorySpanExporter();
      const provider = new sdkTrace.TracerProvider({
        spanProcessors: [processor, new sdkTrace.SimpleSpanProcessor({ exporter } as any), ...(options.processors ?? [])],
        ...(options.sampler !== undefined ? { sampler: options.sampler } : {}),
      });
      instrumentation.setTracerProvider(provider);
      const handled: string[] = [];
      const server = auditScenario.createAuditedServer(sessions.mcp, handled);
      const client = new Client(auditScenario.AUDIT_CLIENT_INFO);
      const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
      if (options.sessionId !== undefined) serverTransport.sessionId = options.sessionId;
      if (options.authInfo !== undefined) {
        const send = clientTransport.send.bind(clientTransport);
        clientTransport.send = (message: unknown, sendOptions?: object) => send(message, { ...sendOptions, authInfo: options.authInfo });
      }
      await server.connect(serverTransport);
      await client.connect(clientTransport);
      const session: AuditSession = {
        client,
        server,
        handled,
        auditDir,
        processor,
        sink: processor.sink as AppendOnlyFileSink,
        spans: [],
        note: async (text) => {
          const result = await client.callTool({ name: 'note', arguments: { text } });
          return result.content[0].text;
        },
        close: async () => {
          await client.close();
          await server.close();
          session.spans = [...exporter.getFinishedSpans()];
          await provider.shutdown();
        },
      };
      return session;
    },
  };
  return sessions;
}

export interface AuditServerChild {
  client: any;
  /** `initialize` answered (or refused). */
  connected: Promise<void>;
  child: any;
  /** What the child wrote on stderr so far. */
  stderr: string[];
}

/**
 * Starts `test/fixtures/audit-server.cjs` (a stdio server auditing into `env.AUDIT_DIR`) and connects
 * a client to it; every child still running is killed after the file.
 */
export function auditServers(): { start(env: Record<string, string>, connect?: { timeout?: number }): AuditServerChild } {
  const children: any[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    start: (env, connect = {}) => {
      const { Client, StdioClientTransport } = mcpSdk() as any;
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [fixture('audit-server.cjs')],
        env: childEnv(env) as Record<string, string>,
        stderr: 'pipe',
      });
      const client = new Client(auditScenario.AUDIT_CLIENT_INFO);
      // `connect` starts the process at once (before its first await).
      const connected = client.connect(transport, connect.timeout !== undefined ? { timeout: connect.timeout } : undefined) as Promise<void>;
      const child = transport._process;
      if (child !== undefined) children.push(child);
      const stderr: string[] = [];
      // The SDK's stderr stream of the child (a pass-through in newer SDKs) holds what came before this.
      transport.stderr?.on('data', (chunk: Buffer) => stderr.push(String(chunk)));
      return { client, connected, child, stderr };
    },
  };
}

let spans = 0;
/** An operation record to append to a sink directly (a fresh span id each time). */
export function auditOperation(n: number, overrides: Partial<AuditOperation> = {}): AuditOperation {
  spans += 1;
  return {
    type: 'op',
    ts: '2025-03-01T12:00:00.000Z',
    start: '2025-03-01T12:00:00.000Z',
    durationMs: 1,
    side: 'server',
    method: 'tools/call',
    tool: 'note',
    requestId: String(n),
    outcome: 'ok',
    traceId: 'a'.repeat(32),
    spanId: spans.toString(16).padStart(16, '0'),
    ...overrides,
  };
}

/** The lines of a segment file (each without its newline; a last line without one is dropped). */
export function segmentLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

/** The record on 1-based `line` of a segment file, parsed. */
export function segmentRecord(file: string, line: number): any {
  return JSON.parse(segmentLines(file)[line - 1]!);
}

export interface AuditCollectorOptions {
  /** The collector output file: one ExportLogsServiceRequest JSON per line, as a collector's `file` exporter writes. */
  file: string;
  /** The status to answer the n-th (1-based) logs request with, instead of accepting it (e.g. 503: the exporter retries). */
  refuse?: (n: number) => number | undefined;
  /** Whether the n-th logs request (`body`), accepted, is written twice (a delivery repeated). */
  duplicate?: (n: number, body: any) => boolean;
}

export interface AuditCollector {
  /** `http://127.0.0.1:<port>`: `/v1/logs` is added by the sink. */
  endpoint: string;
  file: string;
  /** Logs requests received, refused, and log records written a second time. */
  readonly received: number;
  readonly refused: number;
  readonly duplicatedRecords: number;
  /** The requests written, in order (a duplicated one twice). */
  bodies: any[];
  /** The requests refused, in order. */
  refusedBodies: any[];
  /** The audit log records written so far: body (the record line) and replica. */
  records(): Array<{ replica: string; line: string; seq: number }>;
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** A loopback OTLP/HTTP (JSON) logs receiver writing what a collector's file exporter would; faults on demand. */
export async function startAuditCollector(options: AuditCollectorOptions): Promise<AuditCollector> {
  writeFileSync(options.file, '');
  const state = { received: 0, refused: 0, duplicatedRecords: 0 };
  const bodies: any[] = [];
  const refusedBodies: any[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== '/v1/logs' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const n = ++state.received;
      const status = options.refuse?.(n);
      if (status !== undefined) {
        state.refused += 1;
        refusedBodies.push(body);
        res.writeHead(status, { 'content-type': 'text/plain' }).end('not now');
        return;
      }
      const copies = options.duplicate?.(n, body) === true ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        appendFileSync(options.file, `${JSON.stringify(body)}\n`);
        bodies.push(body);
      }
      if (copies === 2) state.duplicatedRecords += logRecordsOf(body).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    file: options.file,
    get received() {
      return state.received;
    },
    get refused() {
      return state.refused;
    },
    get duplicatedRecords() {
      return state.duplicatedRecords;
    },
    bodies,
    refusedBodies,
    records: () => bodies.flatMap((body) => logRecordsOf(body)),
    waitFor,
    close: () => closeServer(server),
  };
}

/** The audit log records of one ExportLogsServiceRequest (JSON): replica, record line, seq. */
export function logRecordsOf(body: any): Array<{ replica: string; line: string; seq: number }> {
  const out: Array<{ replica: string; line: string; seq: number }> = [];
  for (const rl of body?.resourceLogs ?? []) {
    const replica = (rl.resource?.attributes ?? []).find((a: any) => a.key === 'service.instance.id')?.value?.stringValue;
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        if (lr.eventName !== 'mcp.audit.record' || typeof lr.body?.stringValue !== 'string') continue;
        out.push({ replica, line: lr.body.stringValue, seq: JSON.parse(lr.body.stringValue).seq });
      }
    }
  }
  return out;
}

/** An audit log record in a collector file loaded for tampering: where it is, and the object to change. */
export interface CollectedLogRecord {
  /** 1-based line of the file. */
  line: number;
  replica: string;
  /** The record's body, parsed. */
  record: any;
  /** The log record itself (change it in place), and the array holding it. */
  logRecord: any;
  holder: any[];
}

/** A collector file, parsed, to be tampered with and written elsewhere. */
export function loadCollected(file: string): { requests: any[]; records: CollectedLogRecord[]; write(to: string): void } {
  const requests = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
  const records: CollectedLogRecord[] = [];
  requests.forEach((request, index) => {
    for (const rl of request.resourceLogs ?? []) {
      const replica = (rl.resource?.attributes ?? []).find((a: any) => a.key === 'service.instance.id')?.value?.stringValue;
      for (const sl of rl.scopeLogs ?? []) {
        for (const logRecord of sl.logRecords ?? []) {
          if (logRecord.eventName !== 'mcp.audit.record' || typeof logRecord.body?.stringValue !== 'string') continue;
          records.push({ line: index + 1, replica, record: JSON.parse(logRecord.body.stringValue), logRecord, holder: sl.logRecords });
        }
      }
    }
  });
  return { requests, records, write: (to) => writeFileSync(to, requests.map((r) => `${JSON.stringify(r)}\n`).join('')) };
}

/** Sets a log record's attribute (as the collector wrote it: a string or an int value). */
export function setLogAttribute(logRecord: any, key: string, value: string | number): void {
  const attribute = logRecord.attributes.find((a: any) => a.key === key);
  attribute.value = typeof value === 'number' ? { intValue: value } : { stringValue: value };
}
