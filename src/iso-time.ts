/*
 * ISO 8601 times (UTC, millisecond precision) for log lines and audit records, exactly as
 * `new Date(epochMs).toISOString()` writes them, without a `Date` and its formatting per call: the
 * text up to the second is made once per second, the milliseconds are appended.
 */

/** The largest time a `Date` holds, in milliseconds either side of the epoch. */
const MAX_TIME_MS = 8.64e15;

let lastSecond = NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of `lastSecond`. */
let lastPrefix = '';

/**
 * `new Date(epochMs).toISOString()`: the same text, and the same `RangeError` for a time a `Date`
 * cannot hold (`NaN`, ±Infinity, beyond ±8.64e15).
 */
export function isoMillis(epochMs: number): string {
  const ms = Math.trunc(epochMs); // what `Date` does with a fractional time
  if (!(ms >= -MAX_TIME_MS && ms <= MAX_TIME_MS)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  const milli = ms - second * 1000;
  if (second !== lastSecond) {
    lastPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    lastSecond = second;
  }
  return `${lastPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Whether `epochMs` is a time a `Date` can hold. */
export function isValidTime(epochMs: number): boolean {
  const ms = Math.trunc(epochMs);
  return ms >= -MAX_TIME_MS && ms <= MAX_TIME_MS;
}
