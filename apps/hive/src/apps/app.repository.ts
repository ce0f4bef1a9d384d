import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase, affected, inChunks } from '../database/database';
import { AppRow } from '../database/schema';

/** What the user asked for last: the Hive's intent, not what the device reports. */
export type DesiredState = 'running' | 'stopped';

export interface StoredApplication {
  appstore: string;
  name: string;
  version: string;
}

export interface StoredLink {
  domain: string;
  /** A secret the Hive issued for the link; never logged, never shown. */
  token: string;
}

export interface AppRecord {
  instance: string;
  /** null once the device was revoked: the app waits to be moved. */
  deviceId: string | null;
  application: StoredApplication;
  compose: string;
  variables: Record<string, string>;
  /** Names of the variables the catalog marked secret when the app was installed. */
  secretVariables: string[];
  links: Record<string, StoredLink>;
  desired: DesiredState;
  createdAt: string;
  updatedAt: string;
}

function toRecord(row: AppRow): AppRecord {
  return {
    instance: row.instance,
    deviceId: row.device_id,
    application: JSON.parse(row.application) as StoredApplication,
    compose: row.compose,
    variables: JSON.parse(row.variables) as Record<string, string>,
    secretVariables: JSON.parse(row.secret_variables) as string[],
    links: JSON.parse(row.links) as Record<string, StoredLink>,
    desired: row.desired as DesiredState,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

@Injectable()
export class AppRepository {
  constructor(private readonly db: HiveDatabase) {}

  /** Returns false when the instance exists already. */
  async insert(app: AppRecord): Promise<boolean> {
    const result = await this.db.q
      .insertInto('apps')
      .values({
        instance: app.instance,
        device_id: app.deviceId,
        application: JSON.stringify(app.application),
        compose: app.compose,
        variables: JSON.stringify(app.variables),
        secret_variables: JSON.stringify(app.secretVariables),
        links: JSON.stringify(app.links),
        desired: app.desired,
        created_at: app.createdAt,
        updated_at: app.updatedAt,
      })
      .onConflict((oc) => oc.column('instance').doNothing())
      .executeTakeFirst();
    return affected(result);
  }

  async find(instance: string): Promise<AppRecord | undefined> {
    const row = await this.db.q.selectFrom('apps').selectAll().where('instance', '=', instance).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * The device each of `instances` is installed on (null: none, its device was revoked), read
   * in one query per IN_LIST_MAX instances; an instance without an app is not in the map.
   */
  async ownersOf(instances: readonly string[]): Promise<Map<string, string | null>> {
    const owners = new Map<string, string | null>();
    for (const chunk of inChunks(instances)) {
      const rows = await this.db.q.selectFrom('apps').select(['instance', 'device_id']).where('instance', 'in', chunk).execute();
      for (const row of rows) owners.set(row.instance, row.device_id);
    }
    return owners;
  }

  /** Oldest first, so a listing reads in the order the apps were installed. */
  async list(deviceId?: string): Promise<AppRecord[]> {
    let query = this.db.q.selectFrom('apps').selectAll();
    if (deviceId !== undefined) query = query.where('device_id', '=', deviceId);
    return (await query.orderBy('created_at').orderBy(sql`rowid`).execute()).map(toRecord);
  }

  async setDesired(instance: string, desired: DesiredState, at: string): Promise<void> {
    await this.db.q.updateTable('apps').set({ desired, updated_at: at }).where('instance', '=', instance).execute();
  }

  /** The app now lives on `deviceId` (a move ended there). */
  async assign(instance: string, deviceId: string, desired: DesiredState, at: string): Promise<void> {
    await this.db.q.updateTable('apps').set({ device_id: deviceId, desired, updated_at: at }).where('instance', '=', instance).execute();
  }

  async delete(instance: string): Promise<boolean> {
    return affected(await this.db.q.deleteFrom('apps').where('instance', '=', instance).executeTakeFirst());
  }
}
