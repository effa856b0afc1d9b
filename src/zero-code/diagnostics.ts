/*
 * OpenTelemetry's own diagnostics on stderr, never on stdout, and the checks of standard variables
 * that the SDK would silently ignore or fall back from.
 */
import { format } from 'node:util';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { envList, envString } from './env';
import { report } from './report';

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
export function routeDiagToStderr(): void {
  const level = envString('OTEL_LOG_LEVEL');
  if (level === undefined) return;
  try {
    diag.setLogger(STDERR_DIAG_LOGGER, { logLevel: DIAG_LEVELS[level.toUpperCase()] ?? DiagLogLevel.INFO, suppressOverrideMessage: true });
  } catch {
    /* an API without options: keep whatever logger there is */
  }
}

/** Runs `fn` with `OTEL_LOG_LEVEL` hidden, so that NodeSDK's constructor installs no stdout logger. */
export function withoutLogLevelEnv<T>(fn: () => T): T {
  const saved = process.env.OTEL_LOG_LEVEL;
  if (saved === undefined) return fn();
  delete process.env.OTEL_LOG_LEVEL;
  try {
    return fn();
  } finally {
    process.env.OTEL_LOG_LEVEL = saved;
  }
}

const SIGNALS = ['TRACES', 'METRICS', 'LOGS'] as const;

export function otlpProtocol(signal: (typeof SIGNALS)[number]): string {
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
export function checkEndpoints(): void {
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
export function warnConsoleExporters(): void {
  for (const name of ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER']) {
    if (envList(name).includes('console')) {
      report(`console:${name}`, `${name}=console writes telemetry to stdout: never use it with a stdio MCP server`);
    }
  }
}
