import * as openpgp from 'openpgp';
import { REPLICA_PASSWORD_SALT, replicaPassword } from './replica-password';
import { hkdfSync } from 'node:crypto';

async function secretPacket(): Promise<{ armored: string; packet: Buffer }> {
  const { privateKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 't' }], format: 'armored' });
  const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
  return { armored: privateKey, packet: Buffer.from(key.keyPacket.write()) };
}

describe('replicaPassword', () => {
  it('is HKDF-SHA256 of the secret key packet, salted, with the volume name as info, in hex', async () => {
    const { packet } = await secretPacket();
    const expected = Buffer.from(hkdfSync('sha256', packet, 'mosaic-replica-password-v1', 'vol-a', 32)).toString('hex');
    expect(REPLICA_PASSWORD_SALT).toBe('mosaic-replica-password-v1');
    expect(replicaPassword(packet, 'vol-a')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same key and name, also after the key was protected and unlocked again', async () => {
    const { armored, packet } = await secretPacket();
    const locked = await openpgp.encryptKey({
      privateKey: await openpgp.readPrivateKey({ armoredKey: armored }),
      passphrase: 'pass phrase',
    });
    const unlocked = await openpgp.decryptKey({
      privateKey: await openpgp.readPrivateKey({ armoredKey: locked.armor() }),
      passphrase: 'pass phrase',
    });
    const again = await openpgp.readPrivateKey({ armoredKey: unlocked.armor() });
    expect(replicaPassword(Buffer.from(again.keyPacket.write()), 'vol-a')).toBe(replicaPassword(packet, 'vol-a'));
  });

  it('differs for another volume name or another key', async () => {
    const one = await secretPacket();
    const other = await secretPacket();
    expect(replicaPassword(one.packet, 'vol-a')).not.toBe(replicaPassword(one.packet, 'vol-b'));
    expect(replicaPassword(one.packet, 'vol-a')).not.toBe(replicaPassword(other.packet, 'vol-a'));
  });

  it('refuses an empty key', () => {
    expect(() => replicaPassword(Buffer.alloc(0), 'vol-a')).toThrow(/empty/);
  });
});
