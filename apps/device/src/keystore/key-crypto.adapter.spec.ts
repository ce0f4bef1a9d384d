import * as openpgp from 'openpgp';
import { Argon2Params, CreatedKey, KeyCryptoAdapter, RFC9106_SECOND_RECOMMENDATION, WrongPassphraseError } from './key-crypto.adapter';

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

describe('KeyCryptoAdapter (§3, real OpenPGP in real key jobs)', () => {
  const crypto = new KeyCryptoAdapter();
  let key: CreatedKey;

  beforeAll(async () => {
    key = await crypto.create('mosaic app 3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', PASSPHRASE, SMALL);
  });

  describe('create', () => {
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
      expect((await openpgp.readKey({ armoredKey: key.privateKey })).getFingerprint()).toBe(key.fingerprint);
    });

    it('makes a new key every time', async () => {
      const other = await crypto.create('mosaic link x', PASSPHRASE, SMALL);
      expect(other.fingerprint).not.toBe(key.fingerprint);
    });

    it('returns the key protected: an armored private key that is encrypted', async () => {
      expect(key.encryptedPrivateKey).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]+-----END PGP PRIVATE KEY BLOCK-----\s*$/);
      const read = await openpgp.readPrivateKey({ armoredKey: key.encryptedPrivateKey });
      expect(read.isDecrypted()).toBe(false);
      expect(read.getFingerprint()).toBe(key.fingerprint);
    });

    it('protects the primary key and the subkey with the Argon2 S2K and AEAD', async () => {
      const read = await openpgp.readPrivateKey({ armoredKey: key.encryptedPrivateKey });
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
      const { data } = await openpgp.unarmor(key.encryptedPrivateKey);
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
      const made = await crypto.create('mosaic app production', PASSPHRASE, RFC9106_SECOND_RECOMMENDATION);
      const read = await openpgp.readPrivateKey({ armoredKey: made.encryptedPrivateKey });
      expect(packets(read).map((p) => p.s2k)).toEqual([
        expect.objectContaining({ type: 'argon2', t: 3, p: 4, encodedM: 16 }),
        expect.objectContaining({ type: 'argon2', t: 3, p: 4, encodedM: 16 }),
      ]);
      const opened = await crypto.open(made.encryptedPrivateKey, made.publicKey, PASSPHRASE);
      expect(opened.fingerprint).toBe(made.fingerprint);
    }, 60_000);

    it('fails clearly on parameters a key job refuses', async () => {
      await expect(crypto.create('x', PASSPHRASE, { passes: 0, parallelism: 1, memoryExponent: 10 })).rejects.toThrow(
        /^key creation failed: malformed key job request/,
      );
    });
  });

  describe('open', () => {
    it('opens the key with the right passphrase, and fingerprints both parts', async () => {
      const opened = await crypto.open(key.encryptedPrivateKey, key.publicKey, PASSPHRASE);
      const read = await openpgp.readPrivateKey({ armoredKey: opened.privateKey });
      expect(read.isDecrypted()).toBe(true);
      expect(read.getFingerprint()).toBe(key.fingerprint);
      expect(opened).toMatchObject({ fingerprint: key.fingerprint, publicFingerprint: key.fingerprint });
    });

    it('says whose public key it was given: a mismatch shows in the fingerprints', async () => {
      const other = await crypto.create('mosaic link y', PASSPHRASE, SMALL);
      const opened = await crypto.open(key.encryptedPrivateKey, other.publicKey, PASSPHRASE);
      expect(opened.fingerprint).toBe(key.fingerprint);
      expect(opened.publicFingerprint).toBe(other.fingerprint);
    });

    it('signs with the opened key', async () => {
      const opened = await crypto.open(key.encryptedPrivateKey, key.publicKey, PASSPHRASE);
      const signingKey = await openpgp.readPrivateKey({ armoredKey: opened.privateKey });
      const message = await openpgp.createMessage({ text: 'mosaic' });
      const signed = await openpgp.sign({ message, signingKeys: signingKey });
      const verified = await openpgp.verify({
        message: await openpgp.readMessage({ armoredMessage: signed }),
        verificationKeys: await openpgp.readKey({ armoredKey: key.publicKey }),
      });
      await expect(verified.signatures[0].verified).resolves.toBe(true);
    });

    it("refuses a key whose Argon2 asks for more memory than §3's 64 MiB (its parameters are the Hive's), before deriving anything", async () => {
      const greedy = await crypto.create('mosaic app greedy', PASSPHRASE, { passes: 1, parallelism: 1, memoryExponent: 17 });
      const failure = crypto.open(greedy.encryptedPrivateKey, greedy.publicKey, PASSPHRASE);
      await expect(failure).rejects.toThrow(/^key decryption failed: the key asks for Argon2 beyond 64 MiB, 16 passes and 16 lanes \(m=2\^17 KiB, t=1, p=1\)$/);
      await expect(failure).rejects.not.toBeInstanceOf(WrongPassphraseError);
    }, 60_000);

    it('throws WrongPassphraseError for a wrong passphrase', async () => {
      await expect(crypto.open(key.encryptedPrivateKey, key.publicKey, 'incorrect horse')).rejects.toBeInstanceOf(WrongPassphraseError);
    });

    it('fails, not as a wrong passphrase, on something that is not a key', async () => {
      const failure = crypto.open('-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a key\n-----END PGP PRIVATE KEY BLOCK-----\n', key.publicKey, PASSPHRASE);
      await expect(failure).rejects.toThrow(/^key decryption failed: not an OpenPGP key/);
      await expect(failure).rejects.not.toBeInstanceOf(WrongPassphraseError);
    });
  });
});
