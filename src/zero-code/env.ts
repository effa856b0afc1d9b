/* The standard variables, read the way the OpenTelemetry SDK reads them (trimmed; empty means unset). */
import { report } from './report';

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

/** A positive number, or `undefined` (unset, not a number, or not positive: the SDK's default then applies). */
export function envPositiveNumber(name: string): number | undefined {
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
export function envFlag(name: string): boolean {
  return envString(name)?.toLowerCase() === 'true';
}
