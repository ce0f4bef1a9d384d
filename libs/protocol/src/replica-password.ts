import { hkdfSync } from 'node:crypto';

export const REPLICA_PASSWORD_SALT = 'mosaic-replica-password-v1';

/**
 * The restic password of a volume's repository, derived from the volume's private key:
 * hex(HKDF-SHA256(ikm = the secret key packet, salt = "mosaic-replica-password-v1", info = name, 32 bytes)).
 * Only the key's holder can open the repository, and nothing secret is stored beside the replica,
 * so it works on every backend (rest: and s3: keep no side files). Never logged, never on disk.
 */
export function replicaPassword(secretKeyPacket: Uint8Array, volumeName: string): string {
  if (secretKeyPacket.length === 0) throw new Error('the secret key packet is empty');
  return Buffer.from(hkdfSync('sha256', secretKeyPacket, REPLICA_PASSWORD_SALT, volumeName, 32)).toString('hex');
}
