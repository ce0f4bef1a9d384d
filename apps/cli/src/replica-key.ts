import * as openpgp from 'openpgp';
import { replicaPassword } from '@mosaic/protocol';

/** An app's volume: `mosaic-<instance>-app` or `mosaic-<instance>-link` (docs/protocol.md). */
export function parseVolumeName(name: string): { instance: string; role: 'app' | 'link' } | undefined {
  const match = /^mosaic-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(app|link)$/.exec(name);
  return match ? { instance: match[1], role: match[2] as 'app' | 'link' } : undefined;
}

export class WrongPassphraseError extends Error {}

/**
 * The restic password of a volume's replica (docs/storage-plugin-api.md §3): the private key the
 * Hive holds, opened with the passphrase, then the same derivation the storage plugin makes. The
 * plain key stays in memory.
 */
export async function replicaPasswordOf(encryptedPrivateKey: string, passphrase: string, volumeName: string): Promise<string> {
  const privateKey = await openpgp.readPrivateKey({ armoredKey: encryptedPrivateKey });
  let plain: openpgp.PrivateKey;
  try {
    plain = await openpgp.decryptKey({ privateKey, passphrase });
  } catch {
    throw new WrongPassphraseError('The passphrase does not open this key.');
  }
  // As the Device hands it to the plugin: armored unprotected, read back, its secret key packet.
  const unprotected = await openpgp.readPrivateKey({ armoredKey: plain.armor() });
  return replicaPassword(unprotected.keyPacket.write(), volumeName);
}
