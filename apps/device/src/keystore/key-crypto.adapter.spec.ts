import * as openpgp from 'openpgp';
import { Argon2Params, GeneratedKey, KeyCryptoAdapter, RFC9106_SECOND_RECOMMENDATION, WrongPassphraseError } from './key-crypto.adapter';

/** Small enough for unit tests; production always uses RFC9106_SECOND_RECOMMENDATION. */
const SMALL: Argon2Params = { passes: 1, parallelism: 1, memoryExponent: 10 };
const PASSPHRASE = 'correct horse battery staple';

/** What openpgp@6 keeps on a secret key packet about its protection (not in its typings). */
interface Protection {
  version: number;
  isEncrypted: boolean | null;
  /** 253: AEAD (RFC 9580 §5.5.3); 254: CFB with SHA-1 check. */
  s2kUsage: number;
  aead: number;
  usedModernAEAD: boolean;
  s2k: { type: string; t: number; p: number; encodedM: number };
  privateParams?: Record<string, Uint8Array>;
}

const packets = (key: openpgp.PrivateKey): Protection[] =>
  [key.keyPacket, ...key.subkeys.map((s) => s.keyPacket)] as unknown as Protection[];

describe('KeyCryptoAdapter (§3, real OpenPGP in real worker threads)', () => {
  const crypto = new KeyCryptoAdapter();
  let key: GeneratedKey;
  let protectedKey: string;

  beforeAll(async () => {
    key = await crypto.generate('mosaic app 3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f');
    protectedKey = await crypto.protect(key.privateKey, PASSPHRASE, SMALL);
  });

  describe('generate', () => {
    it('makes an OpenPGP v4 key: Ed25519 primary, one X25519 subkey', async () => {
      const privateKey = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
      expect(privateKey.keyPacket.version).toBe(4);
      expect(privateKey.getAlgorithmInfo()).toEqual({ algorithm: 'ed25519' });
      expect(privateKey.subkeys.map((s) => [s.keyPacket.version, s.getAlgorithmInfo()])).toEqual([[4, { algorithm: 'x25519' }]]);
      expect(privateKey.isDecrypted()).toBe(true);
    });

    it('names the key by its 40-hex fingerprint, the public key’s own', async () => {
      expect(key.fingerprint).toMatch(/^[0-9a-f]{40}$/);
      const publicKey = await openpgp.readKey({ armoredKey: key.publicKey });
      expect(publicKey.isPrivate()).toBe(false);
      expect(publicKey.getFingerprint()).toBe(key.fingerprint);
      await expect(crypto.fingerprintOf(key.privateKey)).resolves.toBe(key.fingerprint);
    });

    it('makes a new key every time', async () => {
      const other = await crypto.generate('mosaic link x');
      expect(other.fingerprint).not.toBe(key.fingerprint);
    });
  });

  describe('protect', () => {
    it('returns an armored private key that is encrypted', async () => {
      expect(protectedKey).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]+-----END PGP PRIVATE KEY BLOCK-----\s*$/);
      const read = await openpgp.readPrivateKey({ armoredKey: protectedKey });
      expect(read.isDecrypted()).toBe(false);
      expect(read.getFingerprint()).toBe(key.fingerprint);
    });

    it('protects the primary key and the subkey with the Argon2 S2K and AEAD', async () => {
      const read = await openpgp.readPrivateKey({ armoredKey: protectedKey });
      for (const packet of packets(read)) {
        expect(packet.isEncrypted).toBe(true);
        expect(packet.s2kUsage).toBe(253);
        expect(Object.values(openpgp.enums.aead)).toContain(packet.aead);
        expect(packet.usedModernAEAD).toBe(true);
        expect(packet.s2k).toMatchObject({ type: 'argon2', t: SMALL.passes, p: SMALL.parallelism, encodedM: SMALL.memoryExponent });
      }
    });

    it('leaves no plain key material in the protected armor', async () => {
      const plain = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
      const secrets = packets(plain).flatMap((p) => Object.values(p.privateParams ?? {}));
      expect(secrets.length).toBeGreaterThanOrEqual(2);
      const { data } = await openpgp.unarmor(protectedKey);
      const binary = Buffer.from(data as Uint8Array);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThanOrEqual(32);
        // The test's own check works: the plain key's binary does hold it.
        expect(Buffer.from((await openpgp.unarmor(key.privateKey)).data as Uint8Array).includes(Buffer.from(secret))).toBe(true);
        expect(binary.includes(Buffer.from(secret))).toBe(false);
      }
    });

    it('uses the production parameters of RFC 9106 when given them', async () => {
      expect(RFC9106_SECOND_RECOMMENDATION).toEqual({ passes: 3, parallelism: 4, memoryExponent: 16 });
      const armored = await crypto.protect(key.privateKey, PASSPHRASE, RFC9106_SECOND_RECOMMENDATION);
      const read = await openpgp.readPrivateKey({ armoredKey: armored });
      expect(packets(read).map((p) => p.s2k)).toEqual([
        expect.objectContaining({ type: 'argon2', t: 3, p: 4, encodedM: 16 }),
        expect.objectContaining({ type: 'argon2', t: 3, p: 4, encodedM: 16 }),
      ]);
      await expect(crypto.fingerprintOf(await crypto.unprotect(armored, PASSPHRASE))).resolves.toBe(key.fingerprint);
    }, 60_000);

    it('salts every protection anew', async () => {
      expect(await crypto.protect(key.privateKey, PASSPHRASE, SMALL)).not.toBe(protectedKey);
    });

    it('fails clearly on something that is not a private key', async () => {
      await expect(crypto.protect(key.publicKey, PASSPHRASE, SMALL)).rejects.toThrow(/^key protection failed: /);
    });
  });

  describe('unprotect', () => {
    it('opens the key with the right passphrase', async () => {
      const opened = await crypto.unprotect(protectedKey, PASSPHRASE);
      const read = await openpgp.readPrivateKey({ armoredKey: opened });
      expect(read.isDecrypted()).toBe(true);
      expect(read.getFingerprint()).toBe(key.fingerprint);
      await expect(crypto.fingerprintOf(opened)).resolves.toBe(key.fingerprint);
    });

    it('signs with the opened key', async () => {
      const signingKey = await openpgp.readPrivateKey({ armoredKey: await crypto.unprotect(protectedKey, PASSPHRASE) });
      const message = await openpgp.createMessage({ text: 'mosaic' });
      const signed = await openpgp.sign({ message, signingKeys: signingKey });
      const verified = await openpgp.verify({
        message: await openpgp.readMessage({ armoredMessage: signed }),
        verificationKeys: await openpgp.readKey({ armoredKey: key.publicKey }),
      });
      await expect(verified.signatures[0].verified).resolves.toBe(true);
    });

    it('throws WrongPassphraseError for a wrong passphrase', async () => {
      await expect(crypto.unprotect(protectedKey, 'incorrect horse')).rejects.toBeInstanceOf(WrongPassphraseError);
    });

    it('fails, not as a wrong passphrase, on something that is not a key', async () => {
      const failure = crypto.unprotect('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----\n', PASSPHRASE);
      await expect(failure).rejects.toThrow(/^key decryption failed: /);
      await expect(failure).rejects.not.toBeInstanceOf(WrongPassphraseError);
    });
  });
});
