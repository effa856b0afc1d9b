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
  const text = write(value, '', []);
  if (text === undefined) throw new TypeError('canonicalJson: not a JSON value');
  return text;
}

/**
 * The canonical members of a plain object (with `extra`'s members added or replacing its own), sorted: `"key":value` texts, members whose value is
 * `undefined` (or a function) left out. `canonicalJson(object)` is `{` + members joined by `,` + `}`;
 * a caller adding one member (a record's hash) inserts it at its sorted place with {@link withMember}
 * instead of writing the whole object again.
 */
export function canonicalMembers(object: Record<string, unknown>, extra?: Record<string, unknown>): CanonicalMembers {
  // The members of `{ ...object, ...extra }`, without making that object (a record's body plus the
  // chain fields: copying a body with optional fields costs more than writing it).
  let keys = Object.keys(object);
  if (extra !== undefined) {
    const own = keys;
    keys = Object.keys(extra);
    for (const name of own) if (!Object.prototype.hasOwnProperty.call(extra, name)) keys.push(name);
  }
  keys.sort();
  const texts: string[] = [];
  const names: string[] = [];
  const stack: object[] = [object];
  for (const name of keys) {
    const value = extra !== undefined && Object.prototype.hasOwnProperty.call(extra, name) ? extra[name] : object[name];
    const text = write(value, name, stack);
    if (text === undefined) continue;
    names.push(name);
    texts.push(`${quotedName(name)}:${text}`);
  }
  return { names, texts };
}

/** Quoted member names seen so far (record fields: a few dozen names), bounded. */
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 512;

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(name, quoted);
  }
  return quoted;
}

/** Sorted member names and their `"key":value` texts (see {@link canonicalMembers}). */
export interface CanonicalMembers {
  readonly names: readonly string[];
  readonly texts: readonly string[];
}

/** `{…}` of the members. */
export function joinMembers(members: CanonicalMembers): string {
  return `{${members.texts.join(',')}}`;
}

/** `{…}` of the members plus `name` (not among them) with the canonical text `valueText`, in sorted place. */
export function withMember(members: CanonicalMembers, name: string, valueText: string): string {
  const { names, texts } = members;
  let at = 0;
  while (at < names.length && names[at]! < name) at++;
  const member = `${JSON.stringify(name)}:${valueText}`;
  let out = '{';
  for (let i = 0; i <= texts.length; i++) {
    if (i === at) out += i === 0 ? member : `,${member}`;
    if (i < texts.length) out += i === 0 && at !== 0 ? texts[i] : `,${texts[i]}`;
  }
  return `${out}}`;
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
      return JSON.stringify(value);
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
    const keys = Object.keys(record);
    if (keys.length > 1) keys.sort();
    let out = '{';
    let first = true;
    for (const name of keys) {
      const text = write(record[name], name, stack);
      if (text === undefined) continue;
      out += first ? `${quotedName(name)}:${text}` : `,${quotedName(name)}:${text}`;
      first = false;
    }
    return `${out}}`;
  } finally {
    stack.pop();
  }
}
