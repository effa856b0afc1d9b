/*
 * Rotation of the file destination, by `pino-roll` (size and/or time, keep N): checked here when the
 * processor is created, so that a mistake is a `TypeError` at start-up rather than a log that never
 * opens.
 */

/** Rotation of a file destination. At least one of `size` and `frequency`. */
export interface JsonLogRotation {
  /**
   * Start a new file once the current one holds this much: a number of bytes, or a string with a
   * unit, `'512k'`, `'10m'`, `'1g'` (powers of 1024). A file may end a little past the limit: lines
   * are never split.
   */
  size?: number | string;
  /**
   * Start a new file every day (`'daily'`, at local midnight), every hour (`'hourly'`), or every so
   * many milliseconds (a number).
   */
  frequency?: 'daily' | 'hourly' | number;
  /**
   * How many rotated files this process keeps besides the one it writes; older ones it created are
   * deleted. Files left by earlier runs are never touched. Without it nothing is deleted: purging
   * the observability log is the user's.
   */
  keep?: number;
}

/** The options handed to `pino-roll`. */
export interface PinoRollOptions {
  file: string;
  size?: string;
  frequency?: 'daily' | 'hourly' | number;
  limit?: { count: number; removeOtherLogFiles: false };
  mkdir: boolean;
  maxWrite?: number;
  retryEAGAIN?: (error: Error, writeBufferLength: number, remainingBufferLength: number) => boolean;
}

const SIZE = /^(\d+(?:\.\d+)?)([bkmg]?)$/i;

function invalid(what: string): TypeError {
  return new TypeError(`opentelemetry-instrumentation-mcp: invalid log rotation: ${what}`);
}

/** Checks `rotation` and turns it into `pino-roll` options for `file`. */
export function pinoRollOptions(file: string, rotation: JsonLogRotation, mkdir: boolean): PinoRollOptions {
  const options: PinoRollOptions = { file, mkdir };
  const { size, frequency, keep } = rotation;
  if (size !== undefined) {
    if (typeof size === 'number') {
      if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`size must be a positive number of bytes, got ${size}`);
      options.size = `${size}b`;
    } else if (typeof size === 'string' && SIZE.test(size.trim()) && Number.parseFloat(size) > 0) {
      // A bare number means megabytes to pino-roll; here it means bytes, as the number form does.
      const trimmed = size.trim().toLowerCase();
      options.size = /[bkmg]$/.test(trimmed) ? trimmed : `${trimmed}b`;
    } else {
      throw invalid(`size must be bytes or a string like '10m', got ${JSON.stringify(size)}`);
    }
  }
  if (frequency !== undefined) {
    const ok =
      frequency === 'daily' || frequency === 'hourly' || (typeof frequency === 'number' && Number.isSafeInteger(frequency) && frequency >= 1000);
    if (!ok) throw invalid(`frequency must be 'daily', 'hourly' or a number of milliseconds >= 1000, got ${JSON.stringify(frequency)}`);
    options.frequency = frequency;
  }
  if (options.size === undefined && options.frequency === undefined) throw invalid('give a size, a frequency, or both');
  if (keep !== undefined) {
    if (!Number.isSafeInteger(keep) || keep < 1) throw invalid(`keep must be a positive integer, got ${keep}`);
    options.limit = { count: keep, removeOtherLogFiles: false };
  }
  return options;
}
