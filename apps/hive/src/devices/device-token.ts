import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;

/** A new device credential: 32 random bytes, base64url. It is shown once and never stored. */
export function generateDeviceToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * What Hive stores and looks tokens up by. A plain SHA-256 is enough for 256 random bits, and
 * looking up by hash means the lookup's timing reveals nothing about a stored token.
 */
export function hashDeviceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
