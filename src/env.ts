/* Environment variables, read one way for every variable of this package (trimmed; empty means unset). */
import { logger } from './logger';

/** Where a value that cannot be read is reported (once per variable). */
export type EnvWarn = (key: string, message: string) => void;

const warned = new Set<string>();

function diagWarnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  logger.warn(message);
}

export function envString(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function envList(name: string): string[] {
  return (envString(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * A boolean variable, read as the OpenTelemetry specification reads them: `true` (any case) is true,
 * `false` (any case) is false, unset or empty is `undefined` (the default applies). Any other value
 * (`1`, `yes`, `on`…) is false, with one warning.
 */
export function envFlag(name: string, warn: EnvWarn = diagWarnOnce): boolean | undefined {
  const raw = envString(name);
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if (value === 'true') return true;
  if (value !== 'false') warn(`env:${name}`, `${name}=${JSON.stringify(raw)} is neither true nor false; read as false`);
  return false;
}

/** A positive number, or `undefined` (unset, not a number, or not positive: the default then applies). */
export function envPositiveNumber(name: string, warn: EnvWarn = diagWarnOnce): number | undefined {
  const raw = envString(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    warn(`env:${name}`, `${name}=${JSON.stringify(raw)} is not a positive number; the default is used`);
    return undefined;
  }
  return value;
}
