/*
 * The preload's own environment variables and its place among other OpenTelemetry setups, with
 * applications that have no OpenTelemetry code (`zero-code-app.cjs`, an MCP server and client over the
 * in-memory transport) or their own NodeSDK (`eco-own-sdk-app.cjs`), exporting OTLP/HTTP JSON to a
 * loopback receiver:
 * - OTEL_INSTRUMENTATION_MCP_LOG (stderr by default, a file, off) and OTEL_INSTRUMENTATION_MCP_AUDIT_DIR,
 *   next to the OTEL_TRACES_EXPORTER exporter (NodeSDK drops env exporters once given span processors);
 * - the OTEL_TRACES_SAMPLER sampler wrapped so that the log and the audit see every operation, while
 *   exports still follow the sampler;
 * - one SDK: the application's own NodeSDK joins the preload's; the preload runs on the main thread
 *   only (Node runs --require preloads again in its module-hooks thread);
 * - each misconfiguration reported once on stderr, the application unharmed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from './helpers/otlp-receiver';
import { childEnv, fixture, REPO_ROOT } from './helpers/sdk';
import { v1Only } from './helpers/mcp';

/** On MCP_SDK_MAJOR=2 this file skips: its own-SDK and paced apps are 1.x apps; the preload on v2 is proven by zero-code.test. */
const V1_ONLY = v1Only('its own-SDK and paced apps are 1.x apps; the preload on v2 is proven by zero-code.test');

const REGISTER_CJS = join(REPO_ROOT, 'build', 'src', 'register.js');
const APP = fixture('zero-code-app.cjs');
const APP_STDOUT = 'result: hi\n';
const PREFIX = 'opentelemetry-instrumentation-mcp/register:';
const SERVICE_NAME = 'eco-register-test';
const RUN_TIMEOUT_MS = 45_000;
/**
 * Child applications run at once within a group (groups run one after another): every one starts a
 * NodeSDK, and two dozen at once on a small, busy machine can take longer than RUN_TIMEOUT_MS.
 */
const AT_ONCE = 4;
/** The spans of one run of the app: both sides of initialize, initialized, and one tool call. */
const APP_SPANS = [
  'CLIENT initialize',
  'CLIENT notifications/initialized',
  'CLIENT tools/call echo',
  'SERVER initialize',
  'SERVER notifications/initialized',
  'SERVER tools/call echo',
];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eco-register-'));
  tempDirs.push(dir);
  return dir;
}

/** Inherited environment minus the caller's OTEL_* and NODE_OPTIONS; traces to `receiver`, metrics and logs off. */
function env(receiver: OtlpReceiver | undefined, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = childEnv();
  for (const key of Object.keys(base)) if (key.startsWith('OTEL_') || key === 'NODE_OPTIONS') delete base[key];
  return {
    ...base,
    ...(receiver !== undefined ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } : { OTEL_TRACES_EXPORTER: 'none' }),
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_SERVICE_NAME: SERVICE_NAME,
    OTEL_BSP_SCHEDULE_DELAY: '50',
    ...extra,
  };
}

function run(args: string[], environment: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${RUN_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function assertUnharmed(result: Run, stdout = APP_STDOUT): void {
  assert.equal(result.stdout, stdout, `stdout is the app's own; stderr:\n${result.stderr}`);
  assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null }, `stderr:\n${result.stderr}`);
}

/** The preload's own report lines on stderr. */
function reports(result: Run): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith(PREFIX));
}

/** The JSON-line log lines on stderr, parsed. */
function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"ts":'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every line of a JSON-lines file (the audit trail), parsed. */
function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** `side method` of log lines, sorted: the same operations as APP_SPANS. */
const APP_LOG = ['client initialize', 'client notifications/initialized', 'client tools/call', 'server initialize', 'server notifications/initialized', 'server tools/call'];

function logSummary(lines: Array<Record<string, unknown>>): string[] {
  return lines.map((l) => `${String(l.side)} ${String(l.method)}`).sort();
}

function spanSummary(receiver: OtlpReceiver): string[] {
  return receiver
    .spans()
    .map((s) => `${s.kind} ${s.name}`)
    .sort();
}

/** Waits until the app's spans arrived (they are flushed before the app exits, so at once). */
async function appSpans(receiver: OtlpReceiver, result: Run): Promise<void> {
  await receiver.waitFor(() => receiver.spans().length >= APP_SPANS.length, 5_000, `the app's spans; stderr:\n${result.stderr}`);
  assert.deepEqual(spanSummary(receiver), APP_SPANS, 'each span exported once');
}

describe('the register preload: its variables, one SDK, and misconfiguration', { concurrency: 1, skip: V1_ONLY }, () => {
  describe('OTEL_INSTRUMENTATION_MCP_LOG, next to the OTLP exporter', { concurrency: AT_ONCE }, () => {
    test('unset: one JSON line per MCP operation on stderr, and the spans still reach OTEL_TRACES_EXPORTER', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const result = await run(['--require', REGISTER_CJS, APP], env(receiver));
        assertUnharmed(result);
        assert.deepEqual(reports(result), []);
        const lines = logLines(result.stderr);
        assert.deepEqual(logSummary(lines), APP_LOG);
        await appSpans(receiver, result);
        const byId = new Map(receiver.spans().map((s) => [s.spanId, s]));
        for (const line of lines) assert.equal(byId.get(line.span_id as string)?.traceId, line.trace_id, 'each line names an exported span');
      } finally {
        await receiver.close();
      }
    });

    test('a file path (its directory created): the lines go there, none to stderr', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const file = join(tempDir(), 'logs', 'mcp', 'operations.jsonl');
        const result = await run(['--require', REGISTER_CJS, APP], env(receiver, { OTEL_INSTRUMENTATION_MCP_LOG: file }));
        assertUnharmed(result);
        assert.deepEqual(reports(result), []);
        assert.deepEqual(logLines(result.stderr), []);
        const content = readFileSync(file, 'utf8');
        assert.ok(content.endsWith('\n'));
        assert.deepEqual(logSummary(logLines(content)), APP_LOG);
        await appSpans(receiver, result);
      } finally {
        await receiver.close();
      }
    });

    test('off: no log, the spans exported as usual', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const result = await run(['--require', REGISTER_CJS, APP], env(receiver, { OTEL_INSTRUMENTATION_MCP_LOG: 'off' }));
        assertUnharmed(result);
        assert.deepEqual(logLines(result.stderr), []);
        assert.deepEqual(reports(result), []);
        await appSpans(receiver, result);
      } finally {
        await receiver.close();
      }
    });

    test('OTEL_LOG_LEVEL=debug: OpenTelemetry diagnostics go to stderr, stdout stays the app’s', async () => {
      const result = await run(['--require', REGISTER_CJS, APP], env(undefined, { OTEL_LOG_LEVEL: 'debug' }));
      assertUnharmed(result);
      assert.match(result.stderr, /Registered a global for trace/, 'the diagnostics are on');
    });

    test('OTEL_SDK_DISABLED=true: nothing started, nothing logged, the app unharmed', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const dir = tempDir();
        const result = await run(
          ['--require', REGISTER_CJS, APP],
          env(receiver, { OTEL_SDK_DISABLED: 'true', OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: join(dir, 'audit') }),
        );
        assertUnharmed(result);
        assert.deepEqual(logLines(result.stderr), []);
        assert.deepEqual(reports(result), []);
        assert.deepEqual(readdirSync(dir), [], 'no audit directory');
        assert.equal(receiver.traceBodies.length, 0);
      } finally {
        await receiver.close();
      }
    });
  });

  describe('OTEL_TRACES_SAMPLER is wrapped in McpRecordingSampler while the log or the audit is on', { concurrency: AT_ONCE }, () => {
    const CASES: Array<{ sampler: Record<string, string>; exported: string[] }> = [
      { sampler: { OTEL_TRACES_SAMPLER: 'always_off' }, exported: [] },
      { sampler: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, exported: [] },
      { sampler: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, exported: [] },
      { sampler: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, exported: [] },
      { sampler: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, exported: APP_SPANS },
      { sampler: { OTEL_TRACES_SAMPLER: 'always_on' }, exported: APP_SPANS },
    ];
    for (const { sampler, exported } of CASES) {
      const name = Object.entries(sampler)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      test(`${name}: the log and the audit see every operation; ${exported.length} spans exported`, async () => {
        const receiver = await startOtlpReceiver();
        try {
          const audit = join(tempDir(), 'audit');
          const result = await run(['--require', REGISTER_CJS, APP], env(receiver, { ...sampler, OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: audit }));
          assertUnharmed(result);
          assert.deepEqual(reports(result), []);
          assert.deepEqual(logSummary(logLines(result.stderr)), APP_LOG, 'every operation logged');
          const [segment] = readdirSync(audit).filter((f) => f.endsWith('.jsonl'));
          const ops = jsonLines(readFileSync(join(audit, segment!), 'utf8')).filter((r) => r.type === 'op');
          assert.deepEqual(
            ops.map((r) => `${String(r.side)} ${String(r.method)} ${String(r.tool ?? '')}`.trim()),
            ['server initialize', 'server tools/call echo'],
            'every audited operation recorded',
          );
          // Everything is flushed before the app exits; a short wait shows nothing else comes.
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.deepEqual(spanSummary(receiver), exported, 'exports follow the sampler');
        } finally {
          await receiver.close();
        }
      });
    }

    test('with the log and the audit off, the sampler is the plain env sampler: always_off records nothing', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const result = await run(
          ['--require', REGISTER_CJS, APP],
          env(receiver, { OTEL_TRACES_SAMPLER: 'always_off', OTEL_INSTRUMENTATION_MCP_LOG: 'off' }),
        );
        assertUnharmed(result);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(spanSummary(receiver), []);
      } finally {
        await receiver.close();
      }
    });
  });

  describe('OTEL_INSTRUMENTATION_MCP_AUDIT_DIR', { concurrency: AT_ONCE }, () => {
    test('one hash-chained trail: the server-side operations, each naming its exported span', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const audit = join(tempDir(), 'audit');
        const result = await run(['--require', REGISTER_CJS, APP], env(receiver, { OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: audit, OTEL_INSTRUMENTATION_MCP_LOG: 'off' }));
        assertUnharmed(result);
        assert.deepEqual(reports(result), []);
        await appSpans(receiver, result);
        const segments = readdirSync(audit).filter((f) => f.endsWith('.jsonl'));
        assert.equal(segments.length, 1, `one segment: ${segments.join(', ')}`);
        const records = jsonLines(readFileSync(join(audit, segments[0]!), 'utf8'));
        assert.deepEqual(
          records.map((r) => r.type),
          ['segment', 'op', 'op', 'close'],
        );
        for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prev, records[i - 1]!.hash, 'chained');
        const servers = new Map(receiver.spans().filter((s) => s.kind === 'SERVER').map((s) => [s.spanId, s]));
        for (const op of records.filter((r) => r.type === 'op')) {
          const span = servers.get(op.spanId as string);
          assert.equal(span?.traceId, op.traceId, `${String(op.method)}: the record names its SERVER span`);
          assert.equal(span?.attributes['mcp.method.name'], op.method);
        }
      } finally {
        await receiver.close();
      }
    });
  });

  describe('one SDK per process', { concurrency: AT_ONCE }, () => {
    const OWN_APP = fixture('eco-own-sdk-app.cjs');

    test('inside the application’s own NodeSDK (no preload): its McpInstrumentation, its exporter', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const result = await run([OWN_APP], env(receiver));
        assertUnharmed(result);
        await appSpans(receiver, result);
        assert.deepEqual([...new Set(receiver.spans().map((s) => s.resource['service.name']))], ['app-own-sdk']);
      } finally {
        await receiver.close();
      }
    });

    test('the application’s own NodeSDK under the preload: it joins the preload’s SDK; every span once; reported once', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const result = await run(['--require', REGISTER_CJS, OWN_APP], env(receiver, { OTEL_INSTRUMENTATION_MCP_LOG: 'off' }));
        assertUnharmed(result);
        assert.deepEqual(reports(result), [
          `${PREFIX} another OpenTelemetry NodeSDK was started after this preload: its instrumentations report through the preload's SDK; its own providers and exporters are not started`,
        ]);
        await appSpans(receiver, result);
        assert.deepEqual([...new Set(receiver.spans().map((s) => s.resource['service.name']))], [SERVICE_NAME], "the preload's SDK exported them");
      } finally {
        await receiver.close();
      }
    });

    const AUTO_REGISTER = '@opentelemetry/auto-instrumentations-node/register';
    const NO_CLOUD = { OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance', OTEL_INSTRUMENTATION_MCP_LOG: 'off' };
    const AUTO_ORDERS = [
      {
        name: 'auto-instrumentations-node’s register first, the preload second (both --require): McpInstrumentation joins its SDK',
        args: ['--require', AUTO_REGISTER, '--require', REGISTER_CJS, APP],
        // Asked for explicitly, the log cannot be had in another SDK: said once.
        env: { ...NO_CLOUD, OTEL_INSTRUMENTATION_MCP_LOG: 'stderr' },
        reports: [
          `${PREFIX} another OpenTelemetry SDK was started before this preload; McpInstrumentation reports through it. OTEL_INSTRUMENTATION_MCP_LOG is ignored: it needs the preload's own SDK (load opentelemetry-instrumentation-mcp/register first)`,
        ],
      },
      {
        name: 'the preload first, auto-instrumentations-node’s register second (both --require): its NodeSDK joins the preload’s',
        args: ['--require', REGISTER_CJS, '--require', AUTO_REGISTER, APP],
        env: NO_CLOUD,
        reports: [
          `${PREFIX} another OpenTelemetry NodeSDK was started after this preload: its instrumentations report through the preload's SDK; its own providers and exporters are not started`,
        ],
      },
    ];
    for (const order of AUTO_ORDERS) {
      test(order.name, async () => {
        const receiver = await startOtlpReceiver();
        try {
          const result = await run(order.args, env(receiver, order.env));
          assertUnharmed(result);
          assert.deepEqual(reports(result), order.reports);
          assert.deepEqual(logLines(result.stderr), []);
          await receiver.waitFor(() => receiver.spans().some((s) => s.name === 'SERVER tools/call echo' || s.name === 'tools/call echo'), 10_000, 'the spans');
          await new Promise((resolve) => setTimeout(resolve, 200));
          const mcp = receiver.spans().filter((s) => s.scope === 'opentelemetry-instrumentation-mcp');
          assert.deepEqual(mcp.map((s) => `${s.kind} ${s.name}`).sort(), APP_SPANS, 'each MCP span once');
          const resources = new Set(receiver.spans().map((s) => JSON.stringify(s.resource)));
          assert.equal(resources.size, 1, 'one SDK exported them');
        } finally {
          await receiver.close();
        }
      });
    }

    test('a module-hooks thread (any loader hook) does not get a second SDK: one audit chain, each line and span once', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const audit = join(tempDir(), 'audit');
        const result = await run(
          ['--require', REGISTER_CJS, '--import', fixture('eco-hooks.mjs'), APP],
          env(receiver, { OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: audit }),
        );
        assertUnharmed(result);
        assert.deepEqual(logSummary(logLines(result.stderr)), APP_LOG);
        assert.equal(readdirSync(audit).filter((f) => f.endsWith('.jsonl')).length, 1, 'one audit chain');
        await appSpans(receiver, result);
      } finally {
        await receiver.close();
      }
    });
  });

  test('OTEL_TRACES_EXPORTER=console: a warning that it writes to stdout (fatal to a stdio server)', async () => {
    const result = await run(['--require', REGISTER_CJS, APP], env(undefined, { OTEL_TRACES_EXPORTER: 'console', OTEL_INSTRUMENTATION_MCP_LOG: 'off' }));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(reports(result), [`${PREFIX} OTEL_TRACES_EXPORTER=console writes telemetry to stdout: never use it with a stdio MCP server`]);
    assert.match(result.stdout, /tools\/call echo/, 'the console exporter did write the spans to stdout');
  });

  describe('misconfiguration: reported once on stderr, the app unharmed', { concurrency: AT_ONCE }, () => {
    /** A regular file: no directory can be made under it. */
    const blocker = (): string => {
      const file = join(tempDir(), 'a-file');
      writeFileSync(file, 'not a directory\n');
      return file;
    };
    const CASES: Array<{ name: string; env: () => Record<string, string>; report: RegExp; spans: boolean }> = [
      {
        name: 'a log path that cannot be written',
        env: () => ({ OTEL_INSTRUMENTATION_MCP_LOG: join(blocker(), 'mcp.jsonl') }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_INSTRUMENTATION_MCP_LOG: cannot write the JSON-line log to ".*a-file\/mcp\.jsonl"; the log is off: (EEXIST|ENOTDIR): /,
        spans: true,
      },
      {
        name: 'a log on stdout',
        env: () => ({ OTEL_INSTRUMENTATION_MCP_LOG: 'stdout' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_INSTRUMENTATION_MCP_LOG: cannot write the JSON-line log to "stdout"; the log is off: ERR_MCP_LOG_STDOUT: /,
        spans: true,
      },
      {
        name: 'an audit directory that cannot be written',
        env: () => ({ OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: join(blocker(), 'audit'), OTEL_INSTRUMENTATION_MCP_LOG: 'off' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_INSTRUMENTATION_MCP_AUDIT_DIR: cannot write the audit trail in .*a-file\/audit; records are kept in memory and written once it can be written: (EEXIST|ENOTDIR): /,
        spans: true,
      },
      {
        name: 'an OTLP endpoint that is not a URL',
        env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_EXPORTER: 'none' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http\(s\) URL; the OTLP exporters fall back to their default endpoint$/,
        spans: false,
      },
      {
        name: 'an unknown sampler',
        env: () => ({ OTEL_TRACES_SAMPLER: 'sometimes' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_TRACES_SAMPLER="sometimes" is not supported \(.*\); parentbased_always_on is used$/,
        spans: true,
      },
      {
        name: 'a sampler ratio out of range',
        env: () => ({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_TRACES_SAMPLER_ARG="2" is not a ratio in \[0, 1\]; 1 is used$/,
        spans: true,
      },
      {
        name: 'an unknown exporter next to otlp',
        env: () => ({ OTEL_TRACES_EXPORTER: 'otlp,jaeger' }),
        report: /^opentelemetry-instrumentation-mcp\/register: OTEL_TRACES_EXPORTER names an unknown exporter "jaeger" \(otlp, zipkin, console, none\); it is skipped$/,
        spans: true,
      },
    ];
    for (const c of CASES) {
      test(c.name, async () => {
        const receiver = await startOtlpReceiver();
        try {
          const result = await run(['--require', REGISTER_CJS, APP], env(receiver, c.env()));
          assertUnharmed(result);
          const lines = reports(result);
          assert.equal(lines.length, 1, `one report; stderr:\n${result.stderr}`);
          assert.match(lines[0]!, c.report);
          if (c.spans) await appSpans(receiver, result);
        } finally {
          await receiver.close();
        }
      });
    }

    test('an endpoint that refuses every export (HTTP 404): several failed exports, one report', async () => {
      const receiver = await startOtlpReceiver({ status: 404 });
      try {
        const result = await run(
          ['--require', REGISTER_CJS, fixture('eco-paced-app.cjs')],
          env(receiver, { OTEL_INSTRUMENTATION_MCP_LOG: 'off', CALLS: '3', PAUSE_MS: '200' }),
        );
        assertUnharmed(result, 'calls: 3\n');
        assert.ok((receiver.rejected.get('/v1/traces') ?? 0) >= 2, `several exports failed: ${receiver.rejected.get('/v1/traces')}`);
        const lines = reports(result);
        assert.equal(lines.length, 1, `one report; stderr:\n${result.stderr}`);
        assert.match(
          lines[0]!,
          new RegExp(
            `^opentelemetry-instrumentation-mcp/register: could not export spans \\(otlp http/json to ${receiver.endpoint.replace(/\./g, '\\.')}/v1/traces\\); later failures are not reported: `,
          ),
        );
      } finally {
        await receiver.close();
      }
    });
  });
});
