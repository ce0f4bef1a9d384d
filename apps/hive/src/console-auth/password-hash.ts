import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * The operator's password, stored as scrypt (node:crypto: memory-hard, no native addon or WASM
 * to ship). N = 2^17, r = 8, p = 1 is OWASP's scrypt floor: 128 MiB and ~0.3 s a hash, run in
 * libuv's thread pool so the event loop keeps serving devices. The format names its parameters,
 * so stronger ones can come later without breaking stored hashes.
 */
export const PASSWORD_SCRYPT = { N: 2 ** 17, r: 8, p: 1, keylen: 32, saltBytes: 16 } as const;
const PREFIX = 'scrypt';

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // maxmem: 128 * N * r bytes, plus room for the call's own buffers.
    scrypt(password.normalize('NFC'), salt, keylen, { N, r, p, maxmem: 129 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = PASSWORD_SCRYPT): Promise<string> {
  const salt = randomBytes(PASSWORD_SCRYPT.saltBytes);
  const key = await derive(password, salt, params.N, params.r, params.p, PASSWORD_SCRYPT.keylen);
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [prefix, n, r, p, salt, hash] = stored.split('$');
  if (prefix !== PREFIX || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
