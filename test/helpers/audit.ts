/*
 * The audit suites' shared setup: temporary directories removed after the file, diagnostics captured,
 * an instrumented in-memory session (instrumentation, provider, audit processor, server and client),
 * the audited stdio server in a child process, operations to append, and segments read back.
 */
import { after, before, beforeEach } from 'node:test';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import * as sdkTrace from '@opentelemetry/sdk-trace';
import { McpInstrumentation } from '../../src';
import { AuditSpanProcessor, type AppendOnlyFileSink, type AuditOperation, type AuditSpanProcessorOptions } from '../../src/audit';
import { mcpSdk, type McpSdk } from './mcp';
import { setupOtel, type FinishedSpan, type TestOtel } from './otel';
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
