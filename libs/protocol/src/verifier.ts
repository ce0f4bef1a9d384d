import { scrypt } from 'node:crypto';

/** docs/protocol.md §1: fixed scrypt parameters; a Hive cannot ask for weaker ones. */
export const VERIFIER_SCRYPT = { N: 131072, r: 8, p: 1, keylen: 32 } as const;
/** scrypt needs 128·N·r bytes; Node's default cap is 32 MiB. */
const MAX_MEMORY = 256 * 1024 * 1024;

/** verifier = scrypt(passphrase utf-8, salt bytes, N=131072, r=8, p=1, keylen=32), base64. */
export function derivePassphraseVerifier(passphrase: string, saltBase64: string): Promise<string> {
  const salt = Buffer.from(saltBase64, 'base64');
  const { N, r, p, keylen } = VERIFIER_SCRYPT;
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, 'utf8'), salt, keylen, { N, r, p, maxmem: MAX_MEMORY }, (err, key) =>
      err ? reject(err) : resolve(key.toString('base64')),
    );
  });
}
