/* The package's environment readers, with problems reported on the zero-code start's own channel. */
import { envFlag as readFlag, envPositiveNumber as readPositiveNumber } from '../env';
import { report } from './report';

export { envList, envString } from '../env';

export function envPositiveNumber(name: string): number | undefined {
  return readPositiveNumber(name, report);
}

/** `true` only for `true` (any case), as the OpenTelemetry SDK reads booleans. */
export function envFlag(name: string): boolean {
  return readFlag(name, report) ?? false;
}
