/* This package's span processors from the environment: the JSON-line log and the audit trail. */
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { safeMkdir } from '../safe-mkdir';
import type * as AuditModule from '../audit';
import type * as JsonLogModule from '../json-log';
import { envString } from './env';
import { report } from './report';
import type { SpanProcessorLike } from './sdk-packages';
import { inTelemetryScope } from './telemetry-scope';

/** `stderr` (default), a file path, or `off`: where the JSON-line log of MCP operations goes. */
export const ENV_LOG = 'OTEL_INSTRUMENTATION_MCP_LOG';
/** A directory: turns the audit trail on (off unless set). */
export const ENV_AUDIT_DIR = 'OTEL_INSTRUMENTATION_MCP_AUDIT_DIR';
/** An OTLP endpoint: the audit records are also shipped there as OTLP logs (with the audit directory). */
export const ENV_AUDIT_OTLP_ENDPOINT = 'OTEL_INSTRUMENTATION_MCP_AUDIT_OTLP_ENDPOINT';

const LOG_OFF_VALUES = new Set(['off', 'none', 'false']);

type LogSetting = { kind: 'off' } | { kind: 'stderr' } | { kind: 'file'; destination: string };

export function logSetting(): LogSetting {
  const raw = envString(ENV_LOG);
  if (raw === undefined || raw.toLowerCase() === 'stderr') return { kind: 'stderr' };
  if (LOG_OFF_VALUES.has(raw.toLowerCase())) return { kind: 'off' };
  return { kind: 'file', destination: raw };
}

export function createLogProcessor(setting: LogSetting): SpanProcessorLike | undefined {
  if (setting.kind === 'off') return undefined;
  const where = setting.kind === 'file' ? resolve(setting.destination) : 'stderr';
  const named = setting.kind === 'file' ? JSON.stringify(setting.destination) : 'stderr';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { JsonLogSpanProcessor } = require('../json-log') as typeof JsonLogModule;
    // The keyword `stdout` is refused by the processor below: no file of that name is made first.
    if (setting.kind === 'file' && setting.destination.toLowerCase() !== 'stdout') {
      // The processor reports a file it cannot open only through `diag` (often off here): open it
      // first, so that a path that cannot be written is reported now, once, on stderr — and no
      // processor is made for it. (Standard output's other names exist: opening one writes nothing.)
      safeMkdir(dirname(where), 0o777);
      closeSync(openSync(where, 'a'));
    }
    // Refuses standard output under any name (a stdio server's JSON-RPC stream), with an error.
    return new JsonLogSpanProcessor({ destination: setting.kind === 'file' ? setting.destination : 'stderr', mkdir: true });
  } catch (error) {
    report('log', `${ENV_LOG}: cannot write the JSON-line log to ${named}; the log is off`, error);
    return undefined;
  }
}

/** What keeps the audit directory from being written, if anything (for the report). */
function auditDirectoryProblem(directory: string): unknown {
  try {
    safeMkdir(directory, 0o700);
    accessSync(directory, fsConstants.W_OK);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** The OTLP sink `OTEL_INSTRUMENTATION_MCP_AUDIT_OTLP_ENDPOINT` asks for (protocol, headers, timeout: the OTLP logs variables). */
function auditOtlpSink(audit: typeof AuditModule): AuditModule.OtlpAuditSink | undefined {
  const endpoint = envString(ENV_AUDIT_OTLP_ENDPOINT);
  if (endpoint === undefined) return undefined;
  try {
    return new audit.OtlpAuditSink({ endpoint });
  } catch (error) {
    report('audit-otlp', `${ENV_AUDIT_OTLP_ENDPOINT}: the audit records cannot be shipped to ${JSON.stringify(endpoint)}; the local trail is still written`, error);
    return undefined;
  }
}

export function createAuditProcessor(): SpanProcessorLike | undefined {
  const directory = envString(ENV_AUDIT_DIR);
  if (directory === undefined) {
    if (envString(ENV_AUDIT_OTLP_ENDPOINT) !== undefined) {
      report('audit-otlp', `${ENV_AUDIT_OTLP_ENDPOINT} needs ${ENV_AUDIT_DIR}: the local trail is the source of truth the OTLP sink ships from; nothing is shipped`);
    }
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const audit = require('../audit') as typeof AuditModule;
    const { AppendOnlyFileSink, AuditSpanProcessor } = audit;
    const ship = auditOtlpSink(audit);
    const sink = new AppendOnlyFileSink({ directory, ship });
    if (!sink.healthy) {
      report(
        'audit',
        `${ENV_AUDIT_DIR}: cannot write the audit trail in ${resolve(directory)}; records are kept in memory and written once it can be written`,
        auditDirectoryProblem(directory) ?? 'the trail could not be opened',
      );
    }
    // Shipping runs in the telemetry scope: its exports never keep the process alive.
    return ship !== undefined ? inTelemetryScope(new AuditSpanProcessor({ sink })) : new AuditSpanProcessor({ sink });
  } catch (error) {
    report('audit', `${ENV_AUDIT_DIR}: the audit trail could not be started in ${resolve(directory)}; auditing is off`, error);
    return undefined;
  }
}
