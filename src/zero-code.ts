import { accessSync, closeSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { format } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, registerInstrumentations } from '@opentelemetry/instrumentation';
import type * as AuditModule from './audit';
import { globalTracerProviderRegistered } from './global-tracer';
import { McpInstrumentation } from './instrumentation';
import type * as LogBridgeModule from './log-bridge';
import { McpRecordingSampler, type SamplerLike } from './sampler';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

/*
 * The zero-code start behind `opentelemetry-instrumentation-mcp/register`: the OpenTelemetry Node SDK
 * with McpInstrumentation, the exporters and sampler the standard `OTEL_*` variables choose, and this
 * package's span processors — the JSON-line log (`OTEL_INSTRUMENTATION_MCP_LOG`) and the audit trail
 * (`OTEL_INSTRUMENTATION_MCP_AUDIT_DIR`).
 *
 * - NodeSDK ignores `OTEL_TRACES_EXPORTER` as soon as it is given `spanProcessors` (both the 0.2xx and
 *   the 0.3xx line), and its own env helpers are not exported; so the exporters the variable names are
 *   built here, the way NodeSDK builds them, from the exporter packages NodeSDK itself depends on.
 * - With the log or the audit on, the sampler `OTEL_TRACES_SAMPLER` names is wrapped in
 *   McpRecordingSampler, so that they see every MCP operation whatever is sampled.
 * - One SDK per process: when another SDK already registered a tracer provider (e.g.
 *   `@opentelemetry/auto-instrumentations-node/register` loaded first), McpInstrumentation joins it
 *   instead; a NodeSDK started after this one (loaded second) joins this one with its instrumentations
 *   instead of building providers and exporters that could never register.
 * - The main thread only: Node runs `--require` preloads again in its module-hooks thread and in
 *   worker threads.
 * - Nothing here may stop the application, and nothing goes to stdout (stdio MCP servers speak JSON-RPC
 *   there): each problem is reported once on stderr and the application runs on, untraced if need be.
 */

const PREFIX = `${PACKAGE_NAME}/register:`;
/** How long exit may wait for telemetry to flush. */
const SHUTDOWN_TIMEOUT_MS = 3000;

/** `stderr` (default), a file path, or `off`: where the JSON-line log of MCP operations goes. */
export const ENV_LOG = 'OTEL_INSTRUMENTATION_MCP_LOG';
/** A directory: turns the audit trail on (off unless set). */
export const ENV_AUDIT_DIR = 'OTEL_INSTRUMENTATION_MCP_AUDIT_DIR';

const LOG_OFF_VALUES = new Set(['off', 'none', 'false']);
/** Shared by every copy of this package a process may load (say, through `--require` and `--import`). */
const STATE_KEY = Symbol.for('opentelemetry-instrumentation-mcp.zero-code');

// ---------------------------------------------------------------------------------------------
// Structural types of what is used from the SDK packages (loaded at run time, never imported).

interface NodeSdkLike {
  start(): void;
  shutdown(): Promise<void>;
}

type NodeSdkClass = new (config: object) => NodeSdkLike;

interface ExportResultLike {
  code: number;
  error?: Error;
}

interface SpanExporterLike {
  export(spans: unknown[], done: (result: ExportResultLike) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

type SpanProcessorLike = object;

/** The part of `@opentelemetry/sdk-trace` (2.x and 3.x alike) used here. */
interface SdkTraceModule {
  AlwaysOnSampler: new () => SamplerLike;
  AlwaysOffSampler: new () => SamplerLike;
  ParentBasedSampler: new (config: { root: SamplerLike }) => SamplerLike;
  TraceIdRatioBasedSampler: new (ratio: number) => SamplerLike;
  BatchSpanProcessor: new (config: { exporter: SpanExporterLike } & Record<string, unknown>) => SpanProcessorLike;
  SimpleSpanProcessor: new (config: { exporter: SpanExporterLike }) => SpanProcessorLike;
  ConsoleSpanExporter: new () => SpanExporterLike;
}

type ExporterClass = new () => SpanExporterLike;

interface ZeroCodeState {
  /** The NodeSDK this preload started, if it started one. */
  sdk: NodeSdkLike | undefined;
  /** Whether the preload ran (started an SDK, joined another, or gave up). */
  done: boolean;
}

function state(): ZeroCodeState {
  const holder = globalThis as unknown as Record<symbol, ZeroCodeState | undefined>;
  return (holder[STATE_KEY] ??= { sdk: undefined, done: false });
}

// ---------------------------------------------------------------------------------------------
// Reporting: once per problem, on stderr.

const reported = new Set<string>();

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return error === undefined ? '' : String(error);
}

/** Writes one line on stderr, at most once per `key`. Never throws. */
function report(key: string, message: string, error?: unknown): void {
  if (reported.has(key)) return;
  reported.add(key);
  const detail = error !== undefined ? `: ${describeError(error)}` : '';
  try {
    process.stderr.write(`${PREFIX} ${message}${detail}\n`);
  } catch {
    /* nowhere left to report to */
  }
}

// ---------------------------------------------------------------------------------------------
// Environment, read the way the OpenTelemetry SDK reads it (trimmed; empty means unset).

function envString(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function envList(name: string): string[] {
  return (envString(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A positive number, or `undefined` (unset, not a number, or not positive: the SDK's default then applies). */
function envPositiveNumber(name: string): number | undefined {
  const raw = envString(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    report(`env:${name}`, `${name}=${JSON.stringify(raw)} is not a positive number; the default is used`);
    return undefined;
  }
  return value;
}

/** `true` only for `true` (any case), as the SDK reads booleans. */
function envFlag(name: string): boolean {
  return envString(name)?.toLowerCase() === 'true';
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry's own diagnostics: on stderr, never on stdout.

function stderrLine(message: unknown, ...args: unknown[]): void {
  try {
    process.stderr.write(`${format(message, ...args)}\n`);
  } catch {
    /* ignore */
  }
}

const STDERR_DIAG_LOGGER: DiagLogger = {
  error: stderrLine,
  warn: stderrLine,
  info: stderrLine,
  debug: stderrLine,
  verbose: stderrLine,
};

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  NONE: DiagLogLevel.NONE,
  ERROR: DiagLogLevel.ERROR,
  WARN: DiagLogLevel.WARN,
  INFO: DiagLogLevel.INFO,
  DEBUG: DiagLogLevel.DEBUG,
  VERBOSE: DiagLogLevel.VERBOSE,
  ALL: DiagLogLevel.ALL,
};

/**
 * With `OTEL_LOG_LEVEL` set, NodeSDK logs through `DiagConsoleLogger`, whose `info` and `debug` write
 * to stdout — into a stdio server's JSON-RPC stream. Routes OpenTelemetry's diagnostics to stderr at
 * that level instead. Does nothing when the variable is unset (diagnostics stay off).
 */
function routeDiagToStderr(): void {
  const level = envString('OTEL_LOG_LEVEL');
  if (level === undefined) return;
  try {
    diag.setLogger(STDERR_DIAG_LOGGER, { logLevel: DIAG_LEVELS[level.toUpperCase()] ?? DiagLogLevel.INFO, suppressOverrideMessage: true });
  } catch {
    /* an API without options: keep whatever logger there is */
  }
}

/** Runs `fn` with `OTEL_LOG_LEVEL` hidden, so that NodeSDK's constructor installs no stdout logger. */
function withoutLogLevelEnv<T>(fn: () => T): T {
  const saved = process.env.OTEL_LOG_LEVEL;
  if (saved === undefined) return fn();
  delete process.env.OTEL_LOG_LEVEL;
  try {
    return fn();
  } finally {
    process.env.OTEL_LOG_LEVEL = saved;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks of the standard variables that the SDK would silently ignore or fall back from.

const SIGNALS = ['TRACES', 'METRICS', 'LOGS'] as const;

function otlpProtocol(signal: (typeof SIGNALS)[number]): string {
  return envString(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) ?? envString('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** An OTLP/HTTP endpoint that is not a URL makes the exporters fall back to localhost, silently: say so. */
function checkEndpoints(): void {
  const httpSignals = SIGNALS.filter((signal) => otlpProtocol(signal) !== 'grpc');
  const names = [
    ...(httpSignals.length > 0 ? ['OTEL_EXPORTER_OTLP_ENDPOINT'] : []),
    ...httpSignals.map((signal) => `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`),
  ];
  for (const name of names) {
    const value = envString(name);
    if (value !== undefined && !isHttpUrl(value)) {
      report(`endpoint:${name}`, `${name}=${JSON.stringify(value)} is not an http(s) URL; the OTLP exporters fall back to their default endpoint`);
    }
  }
}

/** A console exporter writes to stdout: fatal to a stdio MCP server. Warn; the user may mean it. */
function warnConsoleExporters(): void {
  for (const name of ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER']) {
    if (envList(name).includes('console')) {
      report(`console:${name}`, `${name}=console writes telemetry to stdout: never use it with a stdio MCP server`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The SDK packages: NodeSDK, and what NodeSDK itself depends on.

interface LoadedSdk {
  NodeSDK: NodeSdkClass;
  /** `require` from NodeSDK's own location: resolves the exact packages NodeSDK uses. */
  sdkRequire: NodeJS.Require;
}

function loadNodeSdk(): LoadedSdk | undefined {
  let path: string;
  let NodeSDK: NodeSdkClass | undefined;
  try {
    path = require.resolve('@opentelemetry/sdk-node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    NodeSDK = (require(path) as { NodeSDK?: NodeSdkClass }).NodeSDK;
  } catch (error) {
    report('sdk-node', '@opentelemetry/sdk-node is not installed (npm install @opentelemetry/sdk-node); MCP telemetry is off', error);
    return undefined;
  }
  if (typeof NodeSDK !== 'function') {
    report('sdk-node', '@opentelemetry/sdk-node exports no NodeSDK; MCP telemetry is off');
    return undefined;
  }
  return { NodeSDK, sdkRequire: createRequire(path) };
}

function loadSdkTrace(sdkRequire: NodeJS.Require): SdkTraceModule {
  // NodeSDK builds its TracerProvider from `@opentelemetry/sdk-trace` in both lines (0.2xx also
  // re-exports the deprecated `sdk-trace-base` as `tracing`; 0.3xx exports only NodeSDK).
  return sdkRequire('@opentelemetry/sdk-trace') as SdkTraceModule;
}

// ---------------------------------------------------------------------------------------------
// The sampler of OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.

function samplerRatio(): number {
  const raw = envString('OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    report('sampler-arg', `OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(raw)} is not a ratio in [0, 1]; 1 is used`);
    return 1;
  }
  return ratio;
}

/** The sampler the variables name; `undefined` for the SDK's default (`parentbased_always_on`). */
function envSampler(sdkTrace: SdkTraceModule): SamplerLike | undefined {
  const name = envString('OTEL_TRACES_SAMPLER');
  switch (name) {
    case undefined:
      return undefined;
    case 'always_on':
      return new sdkTrace.AlwaysOnSampler();
    case 'always_off':
      return new sdkTrace.AlwaysOffSampler();
    case 'traceidratio':
      return new sdkTrace.TraceIdRatioBasedSampler(samplerRatio());
    case 'parentbased_always_on':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.TraceIdRatioBasedSampler(samplerRatio()) });
    default:
      report(
        'sampler',
        `OTEL_TRACES_SAMPLER=${JSON.stringify(name)} is not supported (always_on, always_off, traceidratio, ` +
          'parentbased_always_on, parentbased_always_off, parentbased_traceidratio); parentbased_always_on is used',
      );
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The span processors of OTEL_TRACES_EXPORTER, as NodeSDK builds them.

function traceEndpointOf(protocol: string): string {
  const specific = envString('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific !== undefined) return specific;
  const base = envString('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (protocol === 'grpc') return base ?? 'http://localhost:4317';
  return base !== undefined ? `${base.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces';
}

/** Hands the exporter's results on unchanged; reports the first failed export on stderr. */
function reportingExporter(exporter: SpanExporterLike, what: string): SpanExporterLike {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) report(`export:${what}`, `could not export spans (${what}); later failures are not reported`, result.error);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (typeof exporter.forceFlush === 'function' ? exporter.forceFlush() : Promise.resolve()),
  };
}

function otlpTraceExporter(sdkRequire: NodeJS.Require): SpanExporterLike {
  let protocol = otlpProtocol('TRACES');
  const packages: Record<string, string> = {
    grpc: '@opentelemetry/exporter-trace-otlp-grpc',
    'http/json': '@opentelemetry/exporter-trace-otlp-http',
    'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  };
  if (packages[protocol] === undefined) {
    report('protocol', `OTLP traces protocol ${JSON.stringify(protocol)} is not supported (grpc, http/json, http/protobuf); http/protobuf is used`);
    protocol = 'http/protobuf';
  }
  const { OTLPTraceExporter } = sdkRequire(packages[protocol]!) as { OTLPTraceExporter: ExporterClass };
  return reportingExporter(new OTLPTraceExporter(), `otlp ${protocol} to ${traceEndpointOf(protocol)}`);
}

function batchProcessor(sdkTrace: SdkTraceModule, exporter: SpanExporterLike): SpanProcessorLike {
  return new sdkTrace.BatchSpanProcessor({
    exporter,
    maxQueueSize: envPositiveNumber('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: envPositiveNumber('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: envPositiveNumber('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: envPositiveNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
}

/** NodeSDK's `getSpanProcessorsFromEnv`, which neither SDK line exports. */
function envSpanProcessors(sdkRequire: NodeJS.Require, sdkTrace: SdkTraceModule): SpanProcessorLike[] {
  let names = [...new Set(envList('OTEL_TRACES_EXPORTER'))].filter((name) => name !== 'null');
  if (names[0] === 'none') return [];
  if (names.length === 0) names = ['otlp'];
  else if (names.includes('none')) {
    report('exporter-none', 'OTEL_TRACES_EXPORTER names "none" with other exporters; otlp is used, as NodeSDK does');
    names = ['otlp'];
  }
  const processors: SpanProcessorLike[] = [];
  for (const name of names) {
    try {
      if (name === 'otlp') {
        processors.push(batchProcessor(sdkTrace, otlpTraceExporter(sdkRequire)));
      } else if (name === 'zipkin') {
        const { ZipkinExporter } = sdkRequire('@opentelemetry/exporter-zipkin') as { ZipkinExporter: ExporterClass };
        const url = envString('OTEL_EXPORTER_ZIPKIN_ENDPOINT') ?? 'http://localhost:9411/api/v2/spans';
        processors.push(batchProcessor(sdkTrace, reportingExporter(new ZipkinExporter(), `zipkin to ${url}`)));
      } else if (name === 'console') {
        processors.push(new sdkTrace.SimpleSpanProcessor({ exporter: new sdkTrace.ConsoleSpanExporter() }));
      } else {
        report(`exporter:${name}`, `OTEL_TRACES_EXPORTER names an unknown exporter ${JSON.stringify(name)} (otlp, zipkin, console, none); it is skipped`);
      }
    } catch (error) {
      report(`exporter:${name}`, `the ${name} trace exporter could not be created; it is skipped`, error);
    }
  }
  return processors;
}

// ---------------------------------------------------------------------------------------------
// This package's span processors: the JSON-line log and the audit trail.

type LogSetting = { kind: 'off' } | { kind: 'stderr' } | { kind: 'file'; destination: string };

function logSetting(): LogSetting {
  const raw = envString(ENV_LOG);
  if (raw === undefined || raw.toLowerCase() === 'stderr') return { kind: 'stderr' };
  if (LOG_OFF_VALUES.has(raw.toLowerCase())) return { kind: 'off' };
  return { kind: 'file', destination: raw };
}

function createLogProcessor(setting: LogSetting): SpanProcessorLike | undefined {
  if (setting.kind === 'off') return undefined;
  const where = setting.kind === 'file' ? resolve(setting.destination) : 'stderr';
  const named = setting.kind === 'file' ? JSON.stringify(setting.destination) : 'stderr';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { JsonLogSpanProcessor } = require('./log-bridge') as typeof LogBridgeModule;
    // Refuses standard output under any name (a stdio server's JSON-RPC stream), with an error.
    const processor = new JsonLogSpanProcessor({ destination: setting.kind === 'file' ? setting.destination : 'stderr', mkdir: true });
    if (setting.kind === 'file') {
      // The processor reports a file it cannot open only through `diag`: open it here too, so that a
      // path that cannot be written is reported now, once, on stderr.
      mkdirSync(dirname(where), { recursive: true });
      closeSync(openSync(where, 'a'));
    }
    return processor;
  } catch (error) {
    report('log', `${ENV_LOG}: cannot write the JSON-line log to ${named}; the log is off`, error);
    return undefined;
  }
}

/** What keeps the audit directory from being written, if anything (for the report). */
function auditDirectoryProblem(directory: string): unknown {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    accessSync(directory, fsConstants.W_OK);
    return undefined;
  } catch (error) {
    return error;
  }
}

function createAuditProcessor(): SpanProcessorLike | undefined {
  const directory = envString(ENV_AUDIT_DIR);
  if (directory === undefined) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppendOnlyFileSink, AuditSpanProcessor } = require('./audit') as typeof AuditModule;
    const sink = new AppendOnlyFileSink({ directory });
    if (!sink.healthy) {
      report(
        'audit',
        `${ENV_AUDIT_DIR}: cannot write the audit trail in ${resolve(directory)}; records are kept in memory and written once it can be written`,
        auditDirectoryProblem(directory) ?? 'the trail could not be opened',
      );
    }
    return new AuditSpanProcessor({ sink });
  } catch (error) {
    report('audit', `${ENV_AUDIT_DIR}: the audit trail could not be started in ${resolve(directory)}; auditing is off`, error);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// One SDK per process.


interface NodeSdkInstance {
  _disabled?: boolean;
  _instrumentations?: unknown;
}

const GUARDED = Symbol('opentelemetry-instrumentation-mcp.guarded-start');

/**
 * Watches every copy of `@opentelemetry/sdk-node` loaded after the preload (through `require` or
 * `import`): a NodeSDK started while the preload's SDK owns the global providers — for instance by
 * `@opentelemetry/auto-instrumentations-node/register` loaded after this one — could register none
 * of its providers (the API refuses a second registration) and would run exporters nobody feeds. Its
 * `start()` then registers its instrumentations with the preload's providers, and nothing else.
 */
class NodeSdkGuard extends InstrumentationBase {
  constructor(private readonly ownSdk: () => NodeSdkLike | undefined) {
    super(`${PACKAGE_NAME}/register`, PACKAGE_VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('@opentelemetry/sdk-node', ['>=0.200.0 <0.400.0'], (exports: unknown) => {
        guardNodeSdk((exports as { NodeSDK?: unknown } | undefined)?.NodeSDK, this.ownSdk);
        return exports;
      }),
    ];
  }
}

function guardNodeSdk(NodeSDK: unknown, ownSdk: () => NodeSdkLike | undefined): void {
  try {
    const proto = (NodeSDK as { prototype?: Record<string | symbol, unknown> } | undefined)?.prototype;
    if (proto === undefined || typeof proto.start !== 'function' || proto[GUARDED] === true) return;
    const original = proto.start as (this: unknown, ...args: unknown[]) => unknown;
    proto.start = function start(this: NodeSdkInstance, ...args: unknown[]): unknown {
      const own = ownSdk();
      if (own === undefined || this === own || this._disabled === true || !globalTracerProviderRegistered()) {
        return original.apply(this, args);
      }
      try {
        const instrumentations = Array.isArray(this._instrumentations) ? (this._instrumentations.flat() as never[]) : [];
        registerInstrumentations({ instrumentations });
        routeDiagToStderr(); // its constructor may have installed a stdout logger
        report(
          'second-sdk',
          'another OpenTelemetry NodeSDK was started after this preload: its instrumentations report through the ' +
            "preload's SDK; its own providers and exporters are not started",
        );
      } catch (error) {
        report('second-sdk', 'could not join a second NodeSDK to the preload SDK', error);
      }
      return undefined;
    };
    Object.defineProperty(proto, GUARDED, { value: true });
  } catch (error) {
    report('guard', 'could not watch for a second NodeSDK', error);
  }
}

/** Another SDK owns the providers: McpInstrumentation joins it; this package's processors cannot. */
function joinExistingSdk(): void {
  routeDiagToStderr();
  registerInstrumentations({ instrumentations: [new McpInstrumentation()] });
  const wanted = [
    envString(ENV_LOG) !== undefined && logSetting().kind !== 'off' ? ENV_LOG : undefined,
    envString(ENV_AUDIT_DIR) !== undefined ? ENV_AUDIT_DIR : undefined,
  ].filter((name): name is string => name !== undefined);
  if (wanted.length > 0) {
    const one = wanted.length === 1;
    report(
      'joined',
      `another OpenTelemetry SDK was started before this preload; McpInstrumentation reports through it. ${wanted.join(' and ')} ` +
        `${one ? 'is' : 'are'} ignored: ${one ? 'it needs' : 'they need'} the preload's own SDK (load ${PACKAGE_NAME}/register first)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The start.

/**
 * Starts the Node SDK once per process — or joins the SDK another preload started — and returns the
 * SDK it started, or `undefined` when it started none.
 */
export function startZeroCode(): NodeSdkLike | undefined {
  // Node runs `--require` preloads again in its module-hooks thread (once any loader hook is
  // registered, as `--import …/register` does) and in worker threads: a second SDK there would
  // export a second, empty stream of telemetry, open the log and start an audit chain of its own.
  if (!isMainThread) return undefined;
  const shared = state();
  if (shared.done) return shared.sdk;
  shared.done = true;
  if (envFlag('OTEL_SDK_DISABLED')) return undefined;
  try {
    if (globalTracerProviderRegistered()) {
      joinExistingSdk();
      return undefined;
    }
  } catch (error) {
    report('join', 'could not add McpInstrumentation to the SDK already started; MCP telemetry is off', error);
    return undefined;
  }
  routeDiagToStderr();
  checkEndpoints();
  warnConsoleExporters();

  const guard = new NodeSdkGuard(() => shared.sdk);
  const loaded = loadNodeSdk();
  if (loaded === undefined) {
    guard.disable();
    return undefined;
  }
  guardNodeSdk(loaded.NodeSDK, () => shared.sdk);

  let sdk: NodeSdkLike;
  try {
    const sdkTrace = loadSdkTrace(loaded.sdkRequire);
    const own = [createLogProcessor(logSetting()), createAuditProcessor()].filter((p): p is SpanProcessorLike => p !== undefined);
    const sampler = envSampler(sdkTrace);
    const config: Record<string, unknown> = {
      instrumentations: [new McpInstrumentation()],
      spanProcessors: [...envSpanProcessors(loaded.sdkRequire, sdkTrace), ...own],
    };
    // The log and the audit must see every MCP operation: keep MCP spans recording whatever is sampled.
    if (own.length > 0) config.sampler = new McpRecordingSampler(sampler ?? new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOnSampler() }));
    else if (sampler !== undefined) config.sampler = sampler;
    sdk = withoutLogLevelEnv(() => new loaded.NodeSDK(config));
    shared.sdk = sdk;
    sdk.start();
  } catch (error) {
    shared.sdk = undefined;
    report('start', 'the OpenTelemetry SDK failed to start; MCP telemetry is off', error);
    return undefined;
  }
  installShutdown(sdk);
  return sdk;
}

function installShutdown(sdk: NodeSdkLike): void {
  let stopping: Promise<boolean> | undefined;
  /** Flushes and shuts down; resolves `true` when done, `false` when the time limit came first. */
  const stop = (): Promise<boolean> => {
    if (stopping === undefined) {
      stopping = Promise.race([
        sdk.shutdown().then(
          () => true,
          (error: unknown) => {
            report('shutdown', 'shutdown failed', error);
            return true;
          },
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
    }
    return stopping;
  };
  // Normal end: the event loop drained, the application is done. Flushing keeps the process alive a
  // little longer, once, and never longer than the limit: an exporter still retrying an unreachable
  // endpoint then is cut off, and the process ends with the application's exit code.
  process.once('beforeExit', () => {
    void stop().then((done) => {
      if (!done) {
        report('flush-timeout', `telemetry not flushed within ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit();
      }
    });
  });
  // Signals: flush, then let the signal do what it would have done without us, unless the
  // application has its own handler (then exiting is the application's decision).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    });
  }
}
