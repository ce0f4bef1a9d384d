import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoveRepository, UnfinishedMoveExists } from '../moves/move.repository';
import { MIGRATIONS } from './migrations';
import { SqliteDatabase } from './sqlite-database';
import { LEGACY_SQLITE_MIGRATIONS } from './testing/legacy-sqlite-migrations';

const quiet = new Logger('test');

describe('migrations', () => {
  let dir: string;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hive-migrations-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A database file as a Hive of schema `version` (before the store layer) left it, with `rows` in its commands table. */
  function databaseAt(
    version: number,
    rows: Array<{ id: string; type: string; params: unknown; status: string; finishedAt: string | null }>,
  ): string {
    const path = join(dir, 'hive.db');
    const db = new Database(path);
    for (const migration of LEGACY_SQLITE_MIGRATIONS.slice(0, version)) db.exec(migration);
    db.pragma(`user_version = ${version}`);
    db.prepare(`INSERT INTO devices (id, name, token_hash, created_at) VALUES ('d1', 'attic', 'hash', '2026-01-01T00:00:00.000Z')`).run();
    for (const row of rows) {
      db.prepare(
        `INSERT INTO commands (id, device_id, type, params, issued_at, status, finished_at) VALUES (?, 'd1', ?, ?, '2026-01-01T00:00:00.000Z', ?, ?)`,
      ).run(row.id, row.type, JSON.stringify(row.params), row.status, row.finishedAt);
    }
    db.close();
    return path;
  }

  it('drops the link tokens of every start stored before that has ended or was refused, and keeps those that may be sent again', async () => {
    const start = (token: string) => ({
      instance: 'i',
      compose: 'services: {}',
      variables: { A: '1' },
      links: { default: { domain: 'a.mosaic.test', token }, other: { domain: 'b.mosaic.test', token: `${token}-2` } },
      failover: false,
    });
    const pruned = {
      instance: 'i',
      compose: 'services: {}',
      variables: { A: '1' },
      links: { default: { domain: 'a.mosaic.test' }, other: { domain: 'b.mosaic.test' } },
      failover: false,
    };
    const path = databaseAt(3, [
      {
        id: 'succeeded',
        type: 'SchedulerAction.start',
        params: start('T-succeeded'),
        status: 'succeeded',
        finishedAt: '2026-01-01T00:01:00.000Z',
      },
      { id: 'failed', type: 'SchedulerAction.start', params: start('T-failed'), status: 'failed', finishedAt: '2026-01-01T00:01:00.000Z' },
      { id: 'refused', type: 'SchedulerAction.start', params: start('T-refused'), status: 'refused', finishedAt: null },
      { id: 'accepted', type: 'SchedulerAction.start', params: start('T-accepted'), status: 'accepted', finishedAt: null },
      { id: 'timeout', type: 'SchedulerAction.start', params: start('T-timeout'), status: 'timeout', finishedAt: null },
      { id: 'info', type: 'SystemCommand.info', params: {}, status: 'succeeded', finishedAt: '2026-01-01T00:01:00.000Z' },
    ]);

    await (await SqliteDatabase.open(path, quiet)).close();
    const db = new Database(path);
    try {
      const params = Object.fromEntries(
        (db.prepare('SELECT id, params FROM commands').all() as Array<{ id: string; params: string }>).map((r) => [
          r.id,
          JSON.parse(r.params),
        ]),
      );
      expect(params).toEqual({
        succeeded: pruned,
        failed: pruned,
        refused: pruned,
        accepted: start('T-accepted'),
        timeout: start('T-timeout'),
        info: {},
      });
      expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length });
    } finally {
      db.close();
    }
  });

  it('turns the last upgrade attempt of each device into its first recorded attempt', async () => {
    const path = databaseAt(4, []);
    const before = new Database(path);
    before.prepare(`INSERT INTO devices (id, name, token_hash, created_at) VALUES ('d2', 'cellar', 'hash2', '2026-01-01T00:00:00.000Z')`).run();
    const insert = before.prepare(
      `INSERT INTO device_upgrades (device_id, last_attempt_at, reported_version, target_version, last_command_id, last_error) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    insert.run('d1', '2026-01-02T00:00:00.000Z', '0.0.9', '0.1.0', 'cmd-1', null);
    insert.run('d2', '2026-01-03T00:00:00.000Z', '0.0.8', '0.1.0', null, JSON.stringify({ code: 'DEVICE_OFFLINE', message: 'away' }));
    before.close();

    await (await SqliteDatabase.open(path, quiet)).close();
    const db = new Database(path);
    try {
      const rows = db
        .prepare('SELECT device_id, requested_at, requested_by, from_version, target_version, target_image, command_id, outcome, reason, finished_at FROM upgrade_attempts ORDER BY device_id')
        .all();
      expect(rows).toEqual([
        { device_id: 'd1', requested_at: '2026-01-02T00:00:00.000Z', requested_by: 'hive', from_version: '0.0.9', target_version: '0.1.0', target_image: null, command_id: 'cmd-1', outcome: 'pending', reason: null, finished_at: null },
        {
          device_id: 'd2',
          requested_at: '2026-01-03T00:00:00.000Z',
          requested_by: 'hive',
          from_version: '0.0.8',
          target_version: '0.1.0',
          target_image: null,
          command_id: null,
          outcome: 'failed',
          reason: JSON.stringify({ code: 'DEVICE_OFFLINE', message: 'away' }),
          finished_at: '2026-01-03T00:00:00.000Z',
        },
      ]);
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'device_upgrades'`).get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('carries a database of the last schema before the store layer forward: every row kept, the same schema', async () => {
    const path = databaseAt(LEGACY_SQLITE_MIGRATIONS.length, [
      { id: 'c1', type: 'SystemCommand.info', params: {}, status: 'succeeded', finishedAt: '2026-01-01T00:01:00.000Z' },
    ]);
    const before = new Database(path);
    before
      .prepare(
        `INSERT INTO moves (id, instance, from_device_id, to_device_id, force, state, created_at, updated_at, downtime_ms, prepare_command_id)
         VALUES ('m1', 'i1', 'd1', 'd2', 0, 'staging', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NULL, 'c1')`,
      )
      .run();
    const dump = (db: Database.Database) =>
      Object.fromEntries(['devices', 'commands', 'moves'].map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()]));
    const rows = dump(before);
    before.close();

    const db = await SqliteDatabase.open(path, quiet);
    try {
      // An unfinished move of the instance is there: the partial unique index came along.
      const moves = new MoveRepository(db);
      const move = (await moves.find('m1'))!;
      expect(move).toMatchObject({ instance: 'i1', state: 'staging', prepareCommandId: 'c1', force: false });
      await expect(moves.insert({ ...move, id: 'm2' })).rejects.toBeInstanceOf(UnfinishedMoveExists);
    } finally {
      await db.close();
    }
    const after = new Database(path);
    try {
      // Columns added since are empty in the rows that were there.
      const moves = (rows.moves as Array<Record<string, unknown>>).map((move) => ({ ...move, precopy_command_id: null, stage_update_command_id: null }));
      expect(dump(after)).toEqual({ ...rows, moves });
      expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      after.close();
    }
  });

  it('makes on a new SQLite database the schema the SQL text of the SQLite-only Hive made, then the migrations since', async () => {
    const written = new Database(join(dir, 'legacy.db'));
    for (const migration of LEGACY_SQLITE_MIGRATIONS) written.exec(migration);
    written.pragma(`user_version = ${LEGACY_SQLITE_MIGRATIONS.length}`);
    written.close();
    // The migrations appended after the SQLite-only Hive (leases, …) run on it as on any database it left.
    await (await SqliteDatabase.open(join(dir, 'legacy.db'), quiet)).close();
    const legacy = new Database(join(dir, 'legacy.db'), { readonly: true });
    const fresh = await SqliteDatabase.open(join(dir, 'fresh.db'), quiet);
    await fresh.close();
    const made = new Database(join(dir, 'fresh.db'), { readonly: true });
    try {
      expect(schemaOf(made)).toEqual(schemaOf(legacy));
    } finally {
      made.close();
      legacy.close();
    }
  });
});

/** Tables with their columns (type affinity, NOT NULL, key), foreign keys and indexes, as SQLite sees them. */
function schemaOf(db: Database.Database) {
  const affinity = (type: string) => (/INT/i.test(type) ? 'INTEGER' : /CHAR|CLOB|TEXT/i.test(type) ? 'TEXT' : type.toUpperCase());
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
  return Object.fromEntries(
    tables.map((table) => [
      table,
      {
        columns: (db.pragma(`table_info(${table})`) as Array<{ name: string; type: string; notnull: number; pk: number }>)
          .map((c) => ({ name: c.name, type: affinity(c.type), notnull: c.notnull, pk: c.pk }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        foreignKeys: (db.pragma(`foreign_key_list(${table})`) as Array<{ table: string; from: string; to: string; on_delete: string }>)
          .map((f) => ({ table: f.table, from: f.from, to: f.to, onDelete: f.on_delete.toUpperCase() }))
          .sort((a, b) => a.from.localeCompare(b.from)),
        indexes: (db.pragma(`index_list(${table})`) as Array<{ name: string; unique: number; origin: string; partial: number }>)
          .filter((i) => i.origin === 'c')
          .map((i) => ({
            name: i.name,
            unique: i.unique,
            partial: i.partial,
            columns: (db.pragma(`index_info(${i.name})`) as Array<{ name: string }>).map((c) => c.name),
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        uniqueColumns: (db.pragma(`index_list(${table})`) as Array<{ name: string; origin: string }>)
          .filter((i) => i.origin !== 'c')
          .map((i) => (db.pragma(`index_info(${i.name})`) as Array<{ name: string }>).map((c) => c.name).join(','))
          .sort(),
      },
    ]),
  );
}
