import { Injectable } from '@nestjs/common';
import { HiveDatabase, affected } from '../database/database';
import { DeviceRow } from '../database/schema';

export interface DeviceRecord {
  id: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  lastSeenAt: string | null;
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
  constructor(private readonly db: HiveDatabase) {}

  async insert(device: DeviceRecord): Promise<void> {
    await this.db.q
      .insertInto('devices')
      .values({
        id: device.id,
        name: device.name,
        token_hash: device.tokenHash,
        created_at: device.createdAt,
        last_seen_at: device.lastSeenAt,
        version: device.version,
      })
      .execute();
  }

  async findById(id: string): Promise<DeviceRecord | undefined> {
    const row = await this.db.q.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async findByTokenHash(tokenHash: string): Promise<DeviceRecord | undefined> {
    const row = await this.db.q.selectFrom('devices').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<DeviceRecord[]> {
    return (await this.db.q.selectFrom('devices').selectAll().orderBy('created_at').orderBy('id').execute()).map(toRecord);
  }

  /** Returns false when there was no such device. Its commands and reports go with it. */
  async delete(id: string): Promise<boolean> {
    return affected(await this.db.q.deleteFrom('devices').where('id', '=', id).executeTakeFirst());
  }

  async rename(id: string, name: string): Promise<boolean> {
    return affected(await this.db.q.updateTable('devices').set({ name }).where('id', '=', id).executeTakeFirst());
  }

  /** Sets the name only while it is empty (created without one); true when it did. */
  async adoptName(id: string, name: string): Promise<boolean> {
    return affected(await this.db.q.updateTable('devices').set({ name }).where('id', '=', id).where('name', '=', '').executeTakeFirst());
  }

  async recordSeen(id: string, at: string): Promise<void> {
    await this.db.q.updateTable('devices').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  /** The version a device proved the passphrase with, and when: one statement. */
  async recordAuthenticated(id: string, version: string, at: string): Promise<void> {
    await this.db.q.updateTable('devices').set({ version, last_seen_at: at }).where('id', '=', id).execute();
  }
}
