import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { InvalidKeyError, OpenPgpKeyAdapter } from './openpgp-key.adapter';

/**
 * The volumes' private keys, in this process's memory only: never written, never logged. After a
 * restart the device registers them again. What is kept is the secret key packet, the one thing
 * the replica password is derived from.
 */
@Injectable()
export class KeyRegistry {
  private readonly logger = new Logger('Keys');
  private readonly secrets = new Map<string, Buffer>();

  constructor(private readonly openpgp: OpenPgpKeyAdapter) {}

  /** Registers an unprotected armored key under its fingerprint; refuses a key with another one. */
  async register(fingerprint: string, armoredKey: string): Promise<void> {
    let key;
    try {
      key = await this.openpgp.read(armoredKey);
    } catch (err) {
      if (err instanceof InvalidKeyError) throw new ProtocolException(ErrorCode.INVALID_PARAMS, `privateKey is ${err.message}.`);
      throw err;
    }
    if (key.fingerprint !== fingerprint) {
      throw new ProtocolException(ErrorCode.INVALID_PARAMS, `The key's fingerprint is ${key.fingerprint}, not ${fingerprint}.`);
    }
    if (!key.decrypted) {
      throw new ProtocolException(ErrorCode.INVALID_PARAMS, 'privateKey is protected by a passphrase; register the decrypted key.');
    }
    this.secrets.get(fingerprint)?.fill(0);
    this.secrets.set(fingerprint, key.secretPacket);
    this.logger.log(`key ${fingerprint} registered`);
  }

  /** The secret key packet for a fingerprint, or undefined when it was not registered. */
  secretFor(fingerprint: string): Buffer | undefined {
    return this.secrets.get(fingerprint);
  }

  has(fingerprint: string): boolean {
    return this.secrets.has(fingerprint);
  }

  unregister(fingerprint: string): boolean {
    const secret = this.secrets.get(fingerprint);
    if (!secret) return false;
    secret.fill(0);
    this.secrets.delete(fingerprint);
    this.logger.log(`key ${fingerprint} forgotten`);
    return true;
  }

  fingerprints(): string[] {
    return [...this.secrets.keys()].sort();
  }
}
