import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What Hive keeps of a passphrase verifier: a keyed hash and its key, both base64. */
export interface VerifierHash {
  hash: string;
  salt: string;
}

const HASH_SALT_BYTES = 32;

/**
 * The verifier is already a scrypt output (docs/protocol.md §1), so a fast keyed hash suffices:
 * it keeps a stolen database from being replayed as a proof.
 */
export function hashVerifier(verifierBase64: string, salt: Buffer = randomBytes(HASH_SALT_BYTES)): VerifierHash {
  const hash = createHmac('sha256', salt).update(Buffer.from(verifierBase64, 'base64')).digest();
  return { hash: hash.toString('base64'), salt: salt.toString('base64') };
}

/** Compares in constant time, so the answer's timing tells nothing about the stored hash. */
export function verifierMatches(verifierBase64: string, stored: VerifierHash): boolean {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = Buffer.from(hashVerifier(verifierBase64, Buffer.from(stored.salt, 'base64')).hash, 'base64');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
