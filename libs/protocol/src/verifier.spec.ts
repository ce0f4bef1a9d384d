import { VERIFIER_SCRYPT, derivePassphraseVerifier } from '@mosaic/protocol';

// Known vectors, computed independently of this code with Python's hashlib (OpenSSL scrypt):
//
//   python3 -c "import hashlib,base64; salt=bytes(range(16)); \
//     print(base64.b64encode(hashlib.scrypt('<passphrase>'.encode('utf-8'), salt=salt, \
//     n=131072, r=8, p=1, maxmem=2**28, dklen=32)).decode())"
//
// with salt = bytes 0x00..0x0f (base64 AAECAwQFBgcICQoLDA0ODw==) or 0x01..0x10
// (base64 AQIDBAUGBwgJCgsMDQ4PEA==).
const SALT_0_15 = 'AAECAwQFBgcICQoLDA0ODw==';
const SALT_1_16 = 'AQIDBAUGBwgJCgsMDQ4PEA==';
const VECTORS = [
  ['an ASCII passphrase', 'correct horse battery staple', SALT_0_15, 'GylG2nH0EXnoO5ncM4QtFXQbh8QSHIx/N4HB34ZPtYs='],
  ['the same passphrase with another salt', 'correct horse battery staple', SALT_1_16, '1LAMgdosaKfKXbChNSHJQsIof/izC++46djbC/ZJpJE='],
  ['a non-ASCII passphrase (hashed as UTF-8)', 'pässwörd 🔑', SALT_0_15, 'WEYMvxD9txeWQdLsdgOXGkPmEQ+FWSZwzopbGwe7NPU='],
] as const;

// scrypt with N = 2^17 takes a few hundred milliseconds per call.
jest.setTimeout(30_000);

describe('derivePassphraseVerifier (§1)', () => {
  it('uses exactly the parameters fixed by docs/protocol.md', () => {
    expect(VERIFIER_SCRYPT).toEqual({ N: 131072, r: 8, p: 1, keylen: 32 });
  });

  it.each(VECTORS)('matches the independent vector for %s', async (_label, passphrase, salt, expected) => {
    await expect(derivePassphraseVerifier(passphrase, salt)).resolves.toBe(expected);
  });

  it('returns the standard base64 of 32 bytes', async () => {
    const verifier = await derivePassphraseVerifier('correct horse battery staple', SALT_0_15);
    expect(verifier).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(verifier, 'base64')).toHaveLength(32);
  });

  it('gives a different verifier for a different salt', async () => {
    const [a, b] = await Promise.all([
      derivePassphraseVerifier('correct horse battery staple', SALT_0_15),
      derivePassphraseVerifier('correct horse battery staple', SALT_1_16),
    ]);
    expect(a).not.toBe(b);
  });

  it('gives a different verifier for a different passphrase', async () => {
    const [a, b] = await Promise.all([
      derivePassphraseVerifier('correct horse battery staple', SALT_0_15),
      derivePassphraseVerifier('correct horse battery stapler', SALT_0_15),
    ]);
    expect(a).not.toBe(b);
  });

  it('is deterministic', async () => {
    const [a, b] = await Promise.all([
      derivePassphraseVerifier('pässwörd 🔑', SALT_1_16),
      derivePassphraseVerifier('pässwörd 🔑', SALT_1_16),
    ]);
    expect(a).toBe(b);
  });
});
