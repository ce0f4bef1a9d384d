import { Injectable } from '@nestjs/common';
import { KeyRole } from '@mosaic/protocol';
import { SqliteDatabase } from '../database/sqlite-database';

/** One key of an instance as §3 carries it; the private part is passphrase-encrypted by the device. */
export interface InstanceKey {
  role: KeyRole;
  fingerprint: string;
  publicKey: string;
  encryptedPrivateKey: string;
}

interface KeyRow {
  role: KeyRole;
  fingerprint: string;
  public_key: string;
  encrypted_private_key: string;
}

@Injectable()
export class KeyRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** Ordered by role, so `app` comes before `link`. */
  find(accountId: string, instance: string): InstanceKey[] {
    const rows = this.db
      .prepare('SELECT role, fingerprint, public_key, encrypted_private_key FROM instance_keys WHERE account_id = ? AND instance = ? ORDER BY role')
      .all(accountId, instance) as KeyRow[];
    return rows.map((row) => ({
      role: row.role,
      fingerprint: row.fingerprint,
      publicKey: row.public_key,
      encryptedPrivateKey: row.encrypted_private_key,
    }));
  }

  insert(accountId: string, instance: string, key: InstanceKey, deviceId: string | null, at: string): void {
    this.db
      .prepare(
        `INSERT INTO instance_keys (account_id, instance, role, fingerprint, public_key, encrypted_private_key, put_by_device, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(accountId, instance, key.role, key.fingerprint, key.publicKey, key.encryptedPrivateKey, deviceId, at);
  }
}
