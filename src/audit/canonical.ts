/*
 * Canonical JSON: the one byte sequence a JSON value is hashed as, so that the hash of a record (and
 * the digest of tool arguments) does not depend on key order or spacing.
 *
 * Definition (for the values that occur here — what `JSON.parse` produces):
 * - `null`, `true`, `false` as themselves;
 * - a number as ECMAScript's `Number.prototype.toString` writes it (`JSON.stringify`): shortest
 *   round-trip form, exponent as `1e+21`, `-0` as `0`; `NaN` and `±Infinity` as `null`;
 * - a string as `JSON.stringify` writes it: `"` and `\` escaped, control characters as `\b \f \n \r \t`
 *   or `\u00XX`, lone surrogates as `\uDXXX`, every other character as itself;
 * - an array as `[` items joined by `,` `]`, `undefined` and functions as `null`;
 * - an object as `{` `"key":value` members joined by `,` `}`, keys sorted by UTF-16 code units (the
 *   default order of `Array.prototype.sort`), members whose value is `undefined` or a function left out;
 * - no whitespace anywhere; `toJSON()` is honoured as `JSON.stringify` does.
 * The bytes hashed are the UTF-8 encoding of that text. This is RFC 8785 (JCS) for I-JSON data; it
 * differs only for lone surrogates, which JCS forbids and which are escaped here.
 */

/** The canonical JSON text of `value`. Throws a `TypeError` for values JSON cannot hold (BigInt, cycles). */
export function canonicalJson(value: unknown): string {
  const text = write(value, '', new Set());
  if (text === undefined) throw new TypeError('canonicalJson: not a JSON value');
  return text;
}

function write(value: unknown, key: string, stack: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt is not a JSON value');
    default:
      break;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (stack.has(object)) throw new TypeError('canonicalJson: cyclic structure');
  stack.add(object);
  try {
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let i = 0; i < object.length; i++) items.push(write(object[i], String(i), stack) ?? 'null');
      return `[${items.join(',')}]`;
    }
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const name of Object.keys(record).sort()) {
      const text = write(record[name], name, stack);
      if (text !== undefined) members.push(`${JSON.stringify(name)}:${text}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    stack.delete(object);
  }
}
