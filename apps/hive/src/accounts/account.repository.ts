import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';
import { VerifierHash } from './verifier-hash';

export interface AccountRecord {
  id: string;
  /** The scrypt salt devices derive their verifier with (base64). */
  passphraseSalt: string;
  verifier: VerifierHash | null;
  createdAt: string;
}

interface AccountRow {
  id: string;
  passphrase_salt: string;
  verifier_hash: string | null;
  verifier_hash_salt: string | null;
  created_at: string;
}

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    passphraseSalt: row.passphrase_salt,
    verifier: row.verifier_hash && row.verifier_hash_salt ? { hash: row.verifier_hash, salt: row.verifier_hash_salt } : null,
    createdAt: row.created_at,
  };
}

/** The account row: this reference Hive serves exactly one account. */
@Injectable()
export class AccountRepository {
  constructor(private readonly db: SqliteDatabase) {}

  find(): AccountRecord | undefined {
    const row = this.db.prepare('SELECT * FROM account ORDER BY created_at LIMIT 1').get() as AccountRow | undefined;
    return row && toRecord(row);
  }

  insert(account: AccountRecord): void {
    this.db
      .prepare('INSERT INTO account (id, passphrase_salt, verifier_hash, verifier_hash_salt, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(account.id, account.passphraseSalt, account.verifier?.hash ?? null, account.verifier?.salt ?? null, account.createdAt);
  }

  setVerifier(id: string, verifier: VerifierHash, at: string): void {
    this.db
      .prepare('UPDATE account SET verifier_hash = ?, verifier_hash_salt = ?, verifier_set_at = ? WHERE id = ?')
      .run(verifier.hash, verifier.salt, at, id);
  }
}
