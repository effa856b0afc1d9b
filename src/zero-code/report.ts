/* Reporting for the zero-code start: once per problem, one line on stderr (never stdout). */
import { PACKAGE_NAME } from '../version';

const PREFIX = `${PACKAGE_NAME}/register:`;

const reported = new Set<string>();

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return error === undefined ? '' : String(error);
}

/** Writes one line on stderr, at most once per `key`. Never throws. */
export function report(key: string, message: string, error?: unknown): void {
  if (reported.has(key)) return;
  reported.add(key);
  const detail = error !== undefined ? `: ${describeError(error)}` : '';
  try {
    process.stderr.write(`${PREFIX} ${message}${detail}\n`);
  } catch {
    /* nowhere left to report to */
  }
}
