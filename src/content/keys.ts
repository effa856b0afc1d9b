/* Redaction by key: decides whether an object key (or a prompt variable's name) names a secret. */

export const REDACTED = '[REDACTED]';

const BUILT_IN_SECRET_KEYS =
  /authorization|passw(or)?d|passwd|secret|token|api[-_ ]?key|apikey|cookie|credential|private[-_ ]?key|session[-_ ]?key|x-api-key/i;

/** Decides whether an object key names a secret. */
export type KeyRedactor = (key: string) => boolean;

/**
 * The built-in secret keys plus `extra`: strings match a key case-insensitively as a substring,
 * regular expressions are tested as given (a `g` or `y` flag does not make them stateful).
 */
export function createKeyRedactor(extra: ReadonlyArray<string | RegExp> | undefined): KeyRedactor {
  const patterns: RegExp[] = [BUILT_IN_SECRET_KEYS];
  for (const entry of extra ?? []) {
    if (entry instanceof RegExp) patterns.push(entry);
    else if (typeof entry === 'string' && entry !== '') {
      patterns.push(new RegExp(entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
    }
  }
  return (key) => {
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      if (pattern.test(key)) return true;
    }
    return false;
  };
}
