/* This package's span processors from the environment: the JSON-line log and the audit trail. */
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { safeMkdir } from '../safe-mkdir';
import type * as AuditModule from '../audit';
import type * as JsonLogModule from '../json-log';
import { envString } from './env';
import { report } from './report';
import type { SpanProcessorLike } from './sdk-packages';

/** `stderr` (default), a file path, or `off`: where the JSON-line log of MCP operations goes. */
export const ENV_LOG = 'OTEL_INSTRUMENTATION_MCP_LOG';
/** A directory: turns the audit trail on (off unless set). */
export const ENV_AUDIT_DIR = 'OTEL_INSTRUMENTATION_MCP_AUDIT_DIR';

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

export function createAuditProcessor(): SpanProcessorLike | undefined {
  const directory = envString(ENV_AUDIT_DIR);
  if (directory === undefined) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppendOnlyFileSink, AuditSpanProcessor } = require('../audit') as typeof AuditModule;
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
