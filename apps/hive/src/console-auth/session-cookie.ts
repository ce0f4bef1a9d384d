import { createHash, timingSafeEqual } from 'node:crypto';

/** The Console's session cookie: HttpOnly, SameSite=Strict, Secure when the Hive is reached over HTTPS. */
export const SESSION_COOKIE = 'mosaic_session';
/** The header a Console page sends its session's CSRF token in, on every request that changes something. */
export const CSRF_HEADER = 'x-csrf-token';

/** Whether a request's CSRF header is the session's token, compared in constant time. */
export function csrfMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** One cookie's value out of a Cookie header; undefined when absent or malformed. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // Session ids are base64url: anything else is not one of ours.
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
  }
  return undefined;
}
