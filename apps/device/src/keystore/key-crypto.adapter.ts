import { Injectable } from '@nestjs/common';
import { Argon2Params, CreatedKey, KeyJobError, OpenedKey, runKeyJob } from './key-job';

export type { Argon2Params, CreatedKey, OpenedKey } from './key-job';
export const RFC9106_SECOND_RECOMMENDATION: Argon2Params = { passes: 3, parallelism: 4, memoryExponent: 16 };

export class WrongPassphraseError extends Error {}

/**
 * OpenPGP key work, each task a key job in a child process that exits afterwards (key-job.ts):
 * the long-running Device never loads openpgp nor holds Argon2's memory.
 */
@Injectable()
export class KeyCryptoAdapter {
  /** A new OpenPGP v4 key (Ed25519 primary, X25519 subkey), also protected with the passphrase. */
  async create(label: string, passphrase: string, argon2: Argon2Params): Promise<CreatedKey> {
    try {
      return await runKeyJob({ op: 'create', label, passphrase, argon2 });
    } catch (err) {
      throw new Error(`key creation failed: ${(err as Error).message}`);
    }
  }

  /** Opens a protected key (`background`: at a low CPU priority); throws WrongPassphraseError when the passphrase does not open it. */
  async open(encryptedPrivateKey: string, publicKey: string, passphrase: string, options: { background?: boolean } = {}): Promise<OpenedKey> {
    try {
      return await runKeyJob({ op: 'open', encryptedPrivateKey, publicKey, passphrase }, { background: options.background });
    } catch (err) {
      if (err instanceof KeyJobError && err.code === 'WRONG_PASSPHRASE') throw new WrongPassphraseError(err.message);
      throw new Error(`key decryption failed: ${(err as Error).message}`);
    }
  }
}
