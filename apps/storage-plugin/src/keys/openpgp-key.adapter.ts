import { Injectable } from '@nestjs/common';
import * as openpgp from 'openpgp';

export interface ReadPrivateKey {
  /** 40 lower-case hex digits. */
  fingerprint: string;
  /** False when the key is still protected by a passphrase. */
  decrypted: boolean;
  /** The serialized secret key packet of the primary key: the input of the replica password. */
  secretPacket: Buffer;
}

export class InvalidKeyError extends Error {}

/** Reads armored OpenPGP private keys (openpgp@6); nothing else in the plugin imports openpgp. */
@Injectable()
export class OpenPgpKeyAdapter {
  async read(armoredKey: string): Promise<ReadPrivateKey> {
    let key: openpgp.PrivateKey;
    try {
      key = await openpgp.readPrivateKey({ armoredKey });
    } catch (err) {
      // openpgp's message names what is wrong with the armor, never the key material.
      throw new InvalidKeyError(`not an armored OpenPGP private key (${(err as Error).message})`);
    }
    const decrypted = key.isDecrypted();
    return {
      fingerprint: key.getFingerprint().toLowerCase(),
      decrypted,
      secretPacket: decrypted ? Buffer.from(key.keyPacket.write()) : Buffer.alloc(0),
    };
  }
}
