import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

export interface DeviceRecord {
  id: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  lastSeenAt: string | null;
  version: string | null;
}

interface DeviceRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_seen_at: string | null;
  version: string | null;
}

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    version: row.version,
  };
}

@Injectable()
export class DeviceRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insert(device: DeviceRecord): void {
    this.db
      .prepare('INSERT INTO devices (id, name, token_hash, created_at, last_seen_at, version) VALUES (?, ?, ?, ?, ?, ?)')
      .run(device.id, device.name, device.tokenHash, device.createdAt, device.lastSeenAt, device.version);
  }

  findById(id: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | undefined;
    return row && toRecord(row);
  }

  findByTokenHash(tokenHash: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE token_hash = ?').get(tokenHash) as DeviceRow | undefined;
    return row && toRecord(row);
  }

  list(): DeviceRecord[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY created_at, id').all() as DeviceRow[]).map(toRecord);
  }

  /** Returns false when there was no such device. Its commands and reports go with it. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes > 0;
  }

  rename(id: string, name: string): boolean {
    return this.db.prepare('UPDATE devices SET name = ? WHERE id = ?').run(name, id).changes > 0;
  }

  /** Sets the name only while it is empty (created without one); true when it did. */
  adoptName(id: string, name: string): boolean {
    return this.db.prepare("UPDATE devices SET name = ? WHERE id = ? AND name = ''").run(name, id).changes > 0;
  }

  recordSeen(id: string, at: string): void {
    this.db.prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?').run(at, id);
  }

  recordVersion(id: string, version: string): void {
    this.db.prepare('UPDATE devices SET version = ? WHERE id = ?').run(version, id);
  }
}
