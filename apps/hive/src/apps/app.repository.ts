import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

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

interface AppRow {
  instance: string;
  device_id: string | null;
  application: string;
  compose: string;
  variables: string;
  secret_variables: string;
  links: string;
  desired: DesiredState;
  created_at: string;
  updated_at: string;
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
    desired: row.desired,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

@Injectable()
export class AppRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /** Returns false when the instance exists already. */
  insert(app: AppRecord): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO apps (instance, device_id, application, compose, variables, secret_variables, links, desired, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance) DO NOTHING`,
        )
        .run(
          app.instance,
          app.deviceId,
          JSON.stringify(app.application),
          app.compose,
          JSON.stringify(app.variables),
          JSON.stringify(app.secretVariables),
          JSON.stringify(app.links),
          app.desired,
          app.createdAt,
          app.updatedAt,
        ).changes > 0
    );
  }

  find(instance: string): AppRecord | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE instance = ?').get(instance) as AppRow | undefined;
    return row && toRecord(row);
  }

  /** Oldest first, so a listing reads in the order the apps were installed. */
  list(deviceId?: string): AppRecord[] {
    const rows = (
      deviceId === undefined
        ? this.db.prepare('SELECT * FROM apps ORDER BY created_at, rowid').all()
        : this.db.prepare('SELECT * FROM apps WHERE device_id = ? ORDER BY created_at, rowid').all(deviceId)
    ) as AppRow[];
    return rows.map(toRecord);
  }

  setDesired(instance: string, desired: DesiredState, at: string): void {
    this.db.prepare('UPDATE apps SET desired = ?, updated_at = ? WHERE instance = ?').run(desired, at, instance);
  }

  /** The app now lives on `deviceId` (a move ended there). */
  assign(instance: string, deviceId: string, desired: DesiredState, at: string): void {
    this.db.prepare('UPDATE apps SET device_id = ?, desired = ?, updated_at = ? WHERE instance = ?').run(deviceId, desired, at, instance);
  }

  delete(instance: string): boolean {
    return this.db.prepare('DELETE FROM apps WHERE instance = ?').run(instance).changes > 0;
  }
}
