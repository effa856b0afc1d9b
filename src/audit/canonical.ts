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

import { jsonString } from '../json-string';

/** The canonical JSON text of `value`. Throws a `TypeError` for values JSON cannot hold (BigInt, cycles). */
export function canonicalJson(value: unknown): string {
  const text = write(value, '', []);
  if (text === undefined) throw new TypeError('canonicalJson: not a JSON value');
  return text;
}

/**
 * The canonical members of a plain object (with `extra`'s members added or replacing its own) as two
 * texts: the members whose names sort before `name`, and the others (`"key":value` joined by `,`;
 * members whose value is `undefined` or a function left out). `canonicalJson(object)` is
 * {@link joinSplit}; the object plus a member `name` (a record's hash) is {@link joinSplitWith}, without
 * writing the object again.
 */
export function canonicalSplit(object: Record<string, unknown>, extra: Record<string, unknown> | undefined, name: string): CanonicalSplit {
  // The members of `{ ...object, ...extra }` without making that object: a merge of the two sorted key
  // lists, `extra`'s value winning.
  const keys = sortedKeys(object);
  const extraKeys = extra !== undefined ? sortedKeys(extra) : NO_KEYS;
  const stack: object[] = [object];
  let head = '';
  let tail = '';
  let i = 0;
  let j = 0;
  while (i < keys.length || j < extraKeys.length) {
    let key: string;
    let value: unknown;
    if (j >= extraKeys.length || (i < keys.length && keys[i]! < extraKeys[j]!)) {
      key = keys[i++]!;
      value = object[key];
    } else {
      key = extraKeys[j++]!;
      if (i < keys.length && keys[i] === key) i++;
      value = extra![key];
    }
    const text = write(value, key, stack);
    if (text === undefined) continue;
    const member = `${jsonString(key)}:${text}`;
    if (key < name) head = head === '' ? member : `${head},${member}`;
    else tail = tail === '' ? member : `${tail},${member}`;
  }
  return { head, tail };
}

const NO_KEYS: readonly string[] = [];

/** The members of an object either side of a member name (see {@link canonicalSplit}). */
export interface CanonicalSplit {
  readonly head: string;
  readonly tail: string;
}

/** `{…}` of the members. */
export function joinSplit(split: CanonicalSplit): string {
  const { head, tail } = split;
  return head !== '' && tail !== '' ? `{${head},${tail}}` : `{${head}${tail}}`;
}

/** `{…}` of the members plus the split's `name` (not among them) with the canonical text `valueText`. */
export function joinSplitWith(split: CanonicalSplit, name: string, valueText: string): string {
  const { head, tail } = split;
  const member = `${jsonString(name)}:${valueText}`;
  return `{${head === '' ? '' : `${head},`}${member}${tail === '' ? '' : `,${tail}`}}`;
}

/**
 * The own enumerable keys of `object` in canonical (UTF-16 code unit) order. Objects built in that
 * order (this package's records) are only checked, not sorted.
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  return keys;
}

/*
 * The writer. Objects being written are kept on `stack` (a cycle check; canonical data is shallow, so a
 * linear scan of the few enclosing objects beats a Set); text is built by concatenation.
 */
function write(value: unknown, key: string, stack: object[]): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      // `String` writes numbers exactly as JSON.stringify does (-0 as 0); non-finite ones are null.
      return Number.isFinite(value) ? String(value) : 'null';
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
  if (stack.includes(object)) throw new TypeError('canonicalJson: cyclic structure');
  stack.push(object);
  try {
    if (Array.isArray(object)) {
      let out = '[';
      for (let i = 0; i < object.length; i++) {
        if (i > 0) out += ',';
        out += write(object[i], String(i), stack) ?? 'null';
      }
      return `${out}]`;
    }
    const record = object as Record<string, unknown>;
    const keys = sortedKeys(record);
    let out = '{';
    let first = true;
    for (const name of keys) {
      const text = write(record[name], name, stack);
      if (text === undefined) continue;
      out += first ? `${jsonString(name)}:${text}` : `,${jsonString(name)}:${text}`;
      first = false;
    }
    return `${out}}`;
  } finally {
    stack.pop();
  }
}
