/* Who called (the opt-in `user.id`): the subject the auth layer verified, never the token. */

/** Longest `user.id` recorded; a longer subject is not recorded (it is not a subject). */
const MAX_USER_ID_LENGTH = 256;

/** The `authInfo` the SDK hands a request's handler or entry: v1 `extra.authInfo`, v2 `ctx.http.authInfo`. */
export function authInfoOf(extra: unknown): unknown {
  if (extra === null || typeof extra !== 'object') return undefined;
  const holder = extra as { authInfo?: unknown; http?: { authInfo?: unknown } };
  return holder.authInfo ?? holder.http?.authInfo;
}

/**
 * The subject of `authInfo` (`extra.sub`, else `extra.subject`: where the audit trail reads its
 * `actor.subject`), or `undefined`. The token is never read.
 */
export function userIdOf(authInfo: unknown): string | undefined {
  if (authInfo === null || typeof authInfo !== 'object') return undefined;
  const claims = (authInfo as { extra?: unknown }).extra;
  if (claims === null || typeof claims !== 'object') return undefined;
  const { sub, subject } = claims as { sub?: unknown; subject?: unknown };
  const id = typeof sub === 'string' && sub !== '' ? sub : typeof subject === 'string' && subject !== '' ? subject : undefined;
  return id !== undefined && id.length <= MAX_USER_ID_LENGTH ? id : undefined;
}
