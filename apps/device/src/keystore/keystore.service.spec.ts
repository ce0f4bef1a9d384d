import * as openpgp from 'openpgp';
import { ErrorCode, Events, KeyRecordDto, KeysPutDto, ProtocolException, validatePayload } from '@mosaic/protocol';
import { deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { Secret } from '../config/secret';
import { HiveConnectionService, HiveUnavailableError } from '../hive/hive-connection.service';
import { Argon2Params, KeyCryptoAdapter } from './key-crypto.adapter';
import { KeystoreService } from './keystore.service';

const A = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const SMALL: Argon2Params = { passes: 1, parallelism: 1, memoryExponent: 10 };
const PASSPHRASE = 'correct horse battery staple';

/** Hive's side of keys.put / keys.get (§3), in memory. */
class FakeHive {
  readonly stored = new Map<string, KeyRecordDto[]>();
  readonly calls: Array<{ event: string; payload: any }> = [];
  /** Runs before a keys.put is answered: lets a test play another device that stores first. */
  beforePut: (() => void) | undefined = undefined;
  unavailable = false;

  async request(event: string, payload: any): Promise<unknown> {
    this.calls.push({ event, payload });
    if (this.unavailable) throw new HiveUnavailableError('Hive did not acknowledge keys.get: timeout');
    if (event === Events.keysGet) {
      const keys = this.stored.get(payload.instance);
      return keys ? { ok: true, keys } : { ok: false, error: { code: ErrorCode.NOT_FOUND, message: 'No keys.' } };
    }
    if (event === Events.keysPut) {
      this.beforePut?.();
      const existing = this.stored.get(payload.instance);
      if (existing && JSON.stringify(existing) !== JSON.stringify(payload.keys)) {
        return { ok: false, error: { code: ErrorCode.KEYS_EXIST, message: 'Other keys are stored.' } };
      }
      this.stored.set(payload.instance, payload.keys);
      return { ok: true };
    }
    throw new Error(`FakeHive: unexpected event ${event}`);
  }

  events(): string[] {
    return this.calls.map((c) => c.event);
  }
}

/** Keys as another device with `passphrase` would have stored them. */
async function keysOfAnotherDevice(crypto: KeyCryptoAdapter, passphrase = PASSPHRASE): Promise<KeyRecordDto[]> {
  return Promise.all(
    (['app', 'link'] as const).map(async (role) => {
      const key = await crypto.create(`mosaic ${role} ${A}`, passphrase, SMALL);
      return { role, fingerprint: key.fingerprint, publicKey: key.publicKey, encryptedPrivateKey: key.encryptedPrivateKey };
    }),
  );
}

const fingerprintOf = async (armoredKey: string) => (await openpgp.readKey({ armoredKey })).getFingerprint();

/** How a string looks inside JSON (newlines escaped). */
const jsonText = (text: string) => JSON.stringify(text).slice(1, -1);

async function rejection(promise: Promise<unknown>): Promise<ProtocolException> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolException);
  return err as ProtocolException;
}

describe('KeystoreService (§3, with the real KeyCryptoAdapter)', () => {
  const crypto = new KeyCryptoAdapter();
  let hive: FakeHive;
  let keystore: KeystoreService;
  /** Generated once: other devices' keys, reused read-only by several tests. */
  let theirs: KeyRecordDto[];
  let theirsOtherPassphrase: KeyRecordDto[];

  beforeAll(async () => {
    theirs = await keysOfAnotherDevice(crypto);
    theirsOtherPassphrase = await keysOfAnotherDevice(crypto, 'a different passphrase');
  });

  function newKeystore(passphrase = PASSPHRASE): KeystoreService {
    const config = deviceConfig({ argon2: SMALL, passphrase: new Secret(passphrase) });
    return new KeystoreService(config, crypto, strictFake<HiveConnectionService>(hive, 'HiveConnectionService'));
  }

  beforeEach(() => {
    hive = new FakeHive();
    keystore = newKeystore();
  });

  describe('a new instance', () => {
    it('asks Hive first, then generates the two keys and stores them with keys.put', async () => {
      const keys = await keystore.keysFor(A, { failover: false });
      expect(hive.events()).toEqual([Events.keysGet, Events.keysPut]);
      expect(hive.calls[0].payload).toEqual({ instance: A });
      const put = hive.calls[1].payload as KeysPutDto;
      expect(validatePayload(KeysPutDto, put)).toMatchObject({ ok: true });
      expect(put.instance).toBe(A);
      expect(put.keys.map((k) => k.role)).toEqual(['app', 'link']);
      expect(put.keys.map((k) => k.fingerprint)).toEqual([keys.app.fingerprint, keys.link.fingerprint]);
      expect(keys.app.fingerprint).not.toBe(keys.link.fingerprint);
    });

    it('sends no plain private key to Hive', async () => {
      const keys = await keystore.keysFor(A, { failover: false });
      const put = hive.calls[1].payload as KeysPutDto;
      const json = JSON.stringify(put);
      expect(json).not.toContain(jsonText(keys.app.privateKey.reveal().trim()));
      expect(json).not.toContain(jsonText(keys.link.privateKey.reveal().trim()));
      // Every private key block anywhere in the payload is encrypted.
      const blocks = json.match(/-----BEGIN PGP PRIVATE KEY BLOCK-----.*?-----END PGP PRIVATE KEY BLOCK-----/g) ?? [];
      expect(blocks).toHaveLength(2);
      for (const block of blocks) {
        expect((await openpgp.readPrivateKey({ armoredKey: JSON.parse(`"${block}"`) as string })).isDecrypted()).toBe(false);
      }
      for (const record of put.keys) {
        expect(Object.keys(record).sort()).toEqual(['encryptedPrivateKey', 'fingerprint', 'publicKey', 'role']);
        const read = await openpgp.readPrivateKey({ armoredKey: record.encryptedPrivateKey });
        expect(read.isDecrypted()).toBe(false);
        expect((read.keyPacket as unknown as { s2k: { type: string } }).s2k.type).toBe('argon2');
        expect(read.getFingerprint()).toBe(record.fingerprint);
        expect((await openpgp.readKey({ armoredKey: record.publicKey })).isPrivate()).toBe(false);
      }
    });

    it('keeps the plain keys in memory, behind Secret', async () => {
      const keys = await keystore.keysFor(A, { failover: false });
      for (const key of [keys.app, keys.link]) {
        expect(key.privateKey).toBeInstanceOf(Secret);
        expect(JSON.stringify(key)).not.toContain(jsonText(key.privateKey.reveal().trim()));
        expect(JSON.stringify(key.privateKey)).toBe('"[secret]"');
        const plain = await openpgp.readPrivateKey({ armoredKey: key.privateKey.reveal() });
        expect(plain.isDecrypted()).toBe(true);
        expect(plain.getFingerprint()).toBe(key.fingerprint);
      }
      expect(keys.app.role).toBe('app');
      expect(keys.link.role).toBe('link');
    });

    it('answers later calls from memory, without Hive', async () => {
      const first = await keystore.keysFor(A, { failover: false });
      hive.unavailable = true;
      await expect(keystore.keysFor(A, { failover: false })).resolves.toBe(first);
      await expect(keystore.keysFor(A, { failover: true })).resolves.toBe(first);
      expect(keystore.cached(A)).toBe(first);
      expect(hive.calls).toHaveLength(2);
    });

    it('asks Hive again after forget, and opens the keys it stored', async () => {
      const first = await keystore.keysFor(A, { failover: false });
      keystore.forget(A);
      expect(keystore.cached(A)).toBeUndefined();
      const again = await keystore.keysFor(A, { failover: false });
      expect(hive.events()).toEqual([Events.keysGet, Events.keysPut, Events.keysGet]);
      expect([again.app.fingerprint, again.link.fingerprint]).toEqual([first.app.fingerprint, first.link.fingerprint]);
    });

    it('uses the keys of another device that stored first (KEYS_EXIST)', async () => {
      hive.beforePut = () => hive.stored.set(A, theirs);
      const keys = await keystore.keysFor(A, { failover: false });
      expect(hive.events()).toEqual([Events.keysGet, Events.keysPut, Events.keysGet]);
      expect([keys.app.fingerprint, keys.link.fingerprint]).toEqual(theirs.map((k) => k.fingerprint));
      expect(await fingerprintOf(keys.app.privateKey.reveal())).toBe(theirs[0].fingerprint);
      expect(hive.stored.get(A)).toBe(theirs);
    });

    it('fails with KEYS_MISSING when Hive refuses to store the keys for another reason', async () => {
      hive.request = async (event) => {
        hive.calls.push({ event, payload: undefined });
        return event === Events.keysGet ? { ok: false, error: { code: 'NOT_FOUND', message: 'none' } } : { ok: false, error: { code: 'INTERNAL', message: 'disk full' } };
      };
      const err = await rejection(keystore.keysFor(A, { failover: false }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
      expect(err.message).toContain('INTERNAL');
      expect(keystore.cached(A)).toBeUndefined();
    });
  });

  describe('a failover', () => {
    it('fails with KEYS_MISSING when Hive has no keys, and generates nothing', async () => {
      const generate = jest.spyOn(crypto, 'create');
      try {
        const err = await rejection(keystore.keysFor(A, { failover: true }));
        expect(err.code).toBe(ErrorCode.KEYS_MISSING);
        expect(hive.events()).toEqual([Events.keysGet]);
        expect(hive.stored.size).toBe(0);
        expect(generate).not.toHaveBeenCalled();
        expect(keystore.cached(A)).toBeUndefined();
      } finally {
        generate.mockRestore();
      }
    });

    it('opens the keys Hive holds: same fingerprints, nothing stored', async () => {
      hive.stored.set(A, theirs);
      const keys = await keystore.keysFor(A, { failover: true });
      expect(hive.events()).toEqual([Events.keysGet]);
      expect([keys.app.fingerprint, keys.link.fingerprint]).toEqual(theirs.map((k) => k.fingerprint));
      expect(keys.app.encryptedPrivateKey).toBe(theirs[0].encryptedPrivateKey);
      expect(await fingerprintOf(keys.link.privateKey.reveal())).toBe(theirs[1].fingerprint);
    });

    it('opens keys once when two commands ask at the same time (one ahead, one a move)', async () => {
      hive.stored.set(A, theirs);
      const [ahead, move] = await Promise.all([keystore.keysFor(A, { failover: true }), keystore.keysFor(A, { failover: true })]);
      expect(move).toBe(ahead);
      expect(hive.events()).toEqual([Events.keysGet]);
    });

    it('a failover whose open it waited for failed for a passing reason (Hive did not answer) tries once itself', async () => {
      hive.stored.set(A, theirs);
      hive.unavailable = true;
      const ahead = keystore.keysFor(A, { failover: true, background: true });
      const move = keystore.keysFor(A, { failover: true });
      hive.unavailable = false;
      await expect(ahead).rejects.toMatchObject({ code: ErrorCode.KEYS_MISSING });
      await expect(move).resolves.toMatchObject({ app: { fingerprint: theirs[0].fingerprint } });
      expect(hive.events()).toEqual([Events.keysGet, Events.keysGet]);
      expect(keystore.neededByCommands(A)).toBe(true);
    });

    it('a start that may create keys does so itself when the failover open it waited for found none', async () => {
      const [failover, start] = await Promise.allSettled([keystore.keysFor(A, { failover: true }), keystore.keysFor(A, { failover: false })]);
      expect(failover).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.KEYS_MISSING } });
      expect(start).toMatchObject({ status: 'fulfilled' });
      expect(hive.events()).toEqual([Events.keysGet, Events.keysGet, Events.keysPut]);
    });

    it('opens the keys whatever order Hive lists them in', async () => {
      hive.stored.set(A, [theirs[1], theirs[0]]);
      const keys = await keystore.keysFor(A, { failover: true });
      expect(keys.app.fingerprint).toBe(theirs[0].fingerprint);
      expect(keys.link.fingerprint).toBe(theirs[1].fingerprint);
    });
  });

  describe('keys from Hive that cannot be used', () => {
    it.each([true, false])('fails with PASSPHRASE_MISMATCH when they were protected with another passphrase (failover %p)', async (failover) => {
      hive.stored.set(A, theirsOtherPassphrase);
      const err = await rejection(keystore.keysFor(A, { failover }));
      expect(err.code).toBe(ErrorCode.PASSPHRASE_MISMATCH);
      expect(hive.events()).toEqual([Events.keysGet]);
      expect(keystore.cached(A)).toBeUndefined();
    });

    it('refuses a key whose private part is not the key its fingerprint names', async () => {
      // Hive swapped the private parts of the two records.
      hive.stored.set(A, [
        { ...theirs[0], encryptedPrivateKey: theirs[1].encryptedPrivateKey },
        { ...theirs[1], encryptedPrivateKey: theirs[0].encryptedPrivateKey },
      ]);
      const err = await rejection(keystore.keysFor(A, { failover: true }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
      expect(err.message).toMatch(/does not match its fingerprint/);
    });

    it('refuses a record whose fingerprint names another key', async () => {
      hive.stored.set(A, [{ ...theirs[0], fingerprint: theirs[1].fingerprint }, theirs[1]]);
      const err = await rejection(keystore.keysFor(A, { failover: true }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
    });

    it('refuses a record whose public key is another key', async () => {
      hive.stored.set(A, [{ ...theirs[0], publicKey: theirs[1].publicKey }, theirs[1]]);
      const err = await rejection(keystore.keysFor(A, { failover: true }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
      expect(err.message).toMatch(/app key/);
    });

    it('refuses a malformed record', async () => {
      hive.stored.set(A, [{ ...theirs[0], fingerprint: 'ABC' }, theirs[1]]);
      const err = await rejection(keystore.keysFor(A, { failover: true }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
      expect(err.details).toEqual([expect.objectContaining({ field: 'fingerprint' })]);
    });

    it('refuses when Hive holds only one of the two keys, and does not replace it', async () => {
      hive.stored.set(A, [theirs[0]]);
      const err = await rejection(keystore.keysFor(A, { failover: false }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
      expect(err.message).toMatch(/both keys/);
      expect(hive.events()).toEqual([Events.keysGet]);
    });
  });

  describe('without Hive', () => {
    it.each([true, false])('fails with KEYS_MISSING and says Hive is not reachable (failover %p)', async (failover) => {
      hive.unavailable = true;
      const generate = jest.spyOn(crypto, 'create');
      try {
        const err = await rejection(keystore.keysFor(A, { failover }));
        expect(err.code).toBe(ErrorCode.KEYS_MISSING);
        expect(err.message).toMatch(/need Hive, which is not reachable: Hive did not acknowledge keys.get/);
        expect(generate).not.toHaveBeenCalled();
      } finally {
        generate.mockRestore();
      }
    });

    it('lets errors other than an unavailable Hive through unchanged', async () => {
      const boom = new Error('socket exploded');
      hive.request = async () => {
        throw boom;
      };
      await expect(keystore.keysFor(A, { failover: false })).rejects.toBe(boom);
    });

    it('fails with KEYS_MISSING on an answer that is not the protocol’s', async () => {
      hive.request = async () => ({ ok: 'maybe' });
      const err = await rejection(keystore.keysFor(A, { failover: false }));
      expect(err.code).toBe(ErrorCode.KEYS_MISSING);
    });
  });
});
