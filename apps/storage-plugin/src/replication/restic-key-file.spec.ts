import { randomBytes } from 'node:crypto';
import { CHEAP_SCRYPT, KeyFileError, isCheap, keyFileId, openKey, parseKeyFile, sealKey } from './restic-key-file';

/** restic's master key JSON (crypto.Key): random keys, base64. */
function masterKey(): Buffer {
  return Buffer.from(
    JSON.stringify({ mac: { k: randomBytes(16).toString('base64'), r: randomBytes(16).toString('base64') }, encrypt: randomBytes(32).toString('base64') }),
  );
}

const meta = { created: new Date('2026-12-07T05:00:00Z'), username: 'mosaic', hostname: 'test' };
const password = randomBytes(32).toString('hex');

/** A key file's JSON with some fields replaced, stored under its own hash. */
function altered(bytes: Buffer, change: Record<string, unknown>): { id: string; bytes: Buffer } {
  const json = { ...(JSON.parse(bytes.toString('utf8')) as Record<string, unknown>), ...change };
  const out = Buffer.from(JSON.stringify(json));
  return { id: keyFileId(out), bytes: out };
}

describe('restic key files', () => {
  it('seals the master key so that the same password opens it again, with the cheap parameters, under the hash of its bytes', async () => {
    const master = masterKey();
    const sealed = await sealKey(master, password, meta);
    expect(sealed.id).toBe(keyFileId(sealed.bytes));
    const key = parseKeyFile(sealed.id, sealed.bytes);
    expect(key.params).toEqual(CHEAP_SCRYPT);
    expect(isCheap(key)).toBe(true);
    expect(JSON.parse(sealed.bytes.toString('utf8'))).toMatchObject({ kdf: 'scrypt', N: 4096, r: 8, p: 1, username: 'mosaic', hostname: 'test', created: '2026-12-07T05:00:00.000Z' });
    await expect(openKey(key, password)).resolves.toEqual(master);
  });

  it('does not open with another password, nor when a bit of the data changed (the MAC)', async () => {
    const sealed = await sealKey(masterKey(), password, meta);
    const key = parseKeyFile(sealed.id, sealed.bytes);
    // The last digit changed (to one it is not).
    await expect(openKey(key, `${password.slice(0, -1)}${password.endsWith('0') ? '1' : '0'}`)).resolves.toBeNull();
    const data = Buffer.from(key.data);
    data[20] ^= 1;
    await expect(openKey({ ...key, data }, password)).resolves.toBeNull();
  });

  it('uses a fresh salt and IV for every key of the same master key', async () => {
    const master = masterKey();
    const [a, b] = [await sealKey(master, password, meta), await sealKey(master, password, meta)];
    expect(a.id).not.toBe(b.id);
    const [ka, kb] = [parseKeyFile(a.id, a.bytes), parseKeyFile(b.id, b.bytes)];
    expect(ka.salt.equals(kb.salt)).toBe(false);
    expect(ka.data.subarray(0, 16).equals(kb.data.subarray(0, 16))).toBe(false);
  });

  it("tells restic's calibrated parameters from cheap ones", async () => {
    const calibrated = await sealKey(masterKey(), password, meta, { N: 2 ** 14, r: 8, p: 1 });
    const key = parseKeyFile(calibrated.id, calibrated.bytes);
    expect(isCheap(key)).toBe(false);
    expect(isCheap({ ...key, params: { N: 4096, r: 8, p: 2 } })).toBe(false);
    expect(isCheap({ ...key, params: { N: 1024, r: 8, p: 1 } })).toBe(true);
  });

  it('refuses what restic would not open or what costs too much to open', async () => {
    const sealed = await sealKey(masterKey(), password, meta);
    const refused = (id: string, bytes: Buffer) => expect(() => parseKeyFile(id, bytes)).toThrow(KeyFileError);
    refused('not-an-id', sealed.bytes);
    refused(keyFileId(Buffer.from('other')), sealed.bytes);
    refused(keyFileId(Buffer.from('{')), Buffer.from('{'));
    for (const change of [
      { kdf: 'argon2' },
      { N: 4095 },
      { N: 1 },
      { N: '4096' },
      { r: 0 },
      { p: 0 },
      { N: 2 ** 20, r: 8 }, // 1 GiB
      { N: 2 ** 16, r: 8, p: 1024 }, // too much work
      { salt: randomBytes(32).toString('base64') },
      { salt: 'not base64!' },
      { data: randomBytes(20).toString('base64') },
    ]) {
      const { id, bytes } = altered(sealed.bytes, change);
      refused(id, bytes);
    }
  });

  it('refuses a key that opens but holds no master key', async () => {
    await expect(sealKey(Buffer.from('{"mac":{"k":"","r":""},"encrypt":""}'), password, meta)).rejects.toThrow(KeyFileError);
  });
});
