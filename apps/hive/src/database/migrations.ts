import { Kysely, sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { DatabaseKind } from './database';

/**
 * One step of the schema, the same for SQLite and PostgreSQL (Kysely's schema builder speaks
 * both). `db` is the transaction the step runs in. Append only: a released migration is never
 * edited. They make, step for step, the schema the SQL text of the SQLite-only Hive made (its
 * databases record the same version numbers, in `PRAGMA user_version`, and go on from there;
 * migrations.spec.ts holds that text and proves it).
 */
export interface Migration {
  up(db: Kysely<any>, kind: DatabaseKind): Promise<void>;
}

/**
 * PostgreSQL has no rowid: the tables whose listings break ties by insertion order get an identity
 * column of that name there, so one `ORDER BY created_at, rowid` works on both.
 */
const rowid = (kind: DatabaseKind) => (table: any) =>
  kind === 'postgres' ? table.addColumn('rowid', 'bigint', (c: any) => c.generatedByDefaultAsIdentity().notNull()) : table;

export const MIGRATIONS: readonly Migration[] = [
  {
    async up(db, kind) {
      await db.schema
        .createTable('account')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('passphrase_salt', 'text', (c) => c.notNull())
        .addColumn('verifier_hash', 'text')
        .addColumn('verifier_hash_salt', 'text')
        .addColumn('verifier_set_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text')
        .addColumn('version', 'text')
        .execute();
      await rowid(kind)(
        db.schema
          .createTable('commands')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('params', 'text', (c) => c.notNull())
          .addColumn('issued_at', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('ack', 'text')
          .addColumn('result', 'text')
          .addColumn('error', 'text')
          .addColumn('progress', 'text')
          .addColumn('finished_at', 'text'),
      ).execute();
      await db.schema.createIndex('commands_by_device').on('commands').columns(['device_id', 'issued_at']).execute();
      await db.schema
        .createTable('reports')
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        // Epoch milliseconds outgrow PostgreSQL's 32-bit integer; SQLite's INTEGER holds 64 bits either way.
        .addColumn('at_ms', kind === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('reports_pkey', ['device_id', 'kind'])
        .execute();
      // Keys outlive the device that put them: another device needs them for a failover.
      await db.schema
        .createTable('instance_keys')
        .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('encrypted_private_key', 'text', (c) => c.notNull())
        .addColumn('put_by_device', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('instance_keys_pkey', ['account_id', 'instance', 'role'])
        .execute();
    },
  },
  {
    // One row per app instance: everything SchedulerAction.start needs, so the same start can be
    // sent again, or to another device when the app moves. links holds the link tokens the Hive
    // issued: secrets, never shown by the REST API. An app outlives a revoked device (device_id NULL).
    async up(db, kind) {
      await rowid(kind)(
        db.schema
          .createTable('apps')
          .addColumn('instance', 'text', (c) => c.primaryKey())
          .addColumn('device_id', 'text', (c) => c.references('devices.id').onDelete('set null'))
          .addColumn('application', 'text', (c) => c.notNull())
          .addColumn('compose', 'text', (c) => c.notNull())
          .addColumn('variables', 'text', (c) => c.notNull())
          .addColumn('secret_variables', 'text', (c) => c.notNull())
          .addColumn('links', 'text', (c) => c.notNull())
          .addColumn('desired', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('apps_by_device').on('apps').column('device_id').execute();
    },
  },
  {
    // Moving an app from one device to another (failover): a small state machine that survives a
    // restart. Device ids are plain text, not references: a move is history, and the move service
    // deals with a device revoked half-way. At most one unfinished move per instance.
    async up(db, kind) {
      await rowid(kind)(
        db.schema
          .createTable('moves')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('instance', 'text', (c) => c.notNull())
          .addColumn('from_device_id', 'text')
          .addColumn('to_device_id', 'text', (c) => c.notNull())
          .addColumn('force', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('stop_error', 'text')
          .addColumn('loss_window', 'text')
          .addColumn('stop_command_id', 'text')
          .addColumn('start_command_id', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text'),
      ).execute();
      await db.schema.createIndex('moves_by_instance').on('moves').columns(['instance', 'created_at']).execute();
      await db.schema
        .createIndex('moves_unfinished_per_instance')
        .on('moves')
        .column('instance')
        .unique()
        .where(sql.ref('finished_at'), 'is', null)
        .execute();
      // The last UpgradeCommand.run the Hive sent each device, so a restart cannot send a burst.
      await db.schema
        .createTable('device_upgrades')
        .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
        .addColumn('last_attempt_at', 'text', (c) => c.notNull())
        .addColumn('reported_version', 'text', (c) => c.notNull())
        .addColumn('target_version', 'text', (c) => c.notNull())
        .addColumn('last_command_id', 'text')
        .addColumn('last_error', 'text')
        .execute();
    },
  },
  {
    // Link tokens stay in the apps table alone: a start that ended (or was refused) is never sent
    // again, so its stored params lose links.*.token (CommandRepository does so from now on).
    async up(db) {
      const rows: Array<{ id: string; params: string }> = await db
        .selectFrom('commands')
        .select(['id', 'params'])
        .where('type', '=', 'SchedulerAction.start')
        .where((eb: any) => eb.or([eb('finished_at', 'is not', null), eb('status', '=', 'refused')]))
        .execute();
      for (const row of rows) {
        const pruned = withoutLinkTokens(row.params);
        if (pruned !== null) await db.updateTable('commands').set({ params: pruned }).where('id', '=', row.id).execute();
      }
    },
  },
  {
    // The Console (apps/console): its one operator account (the password as a memory-hard hash),
    // the sessions of signed-in browsers (only a hash of each session id), and the operator's
    // settings (one row). Each table has its own repository under console-auth/ and settings/.
    async up(db) {
      await db.schema
        .createTable('console_users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('console_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('console_users.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_by_expiry').on('console_sessions').column('expires_at').execute();
      await db.schema
        .createTable('console_settings')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('replication_warning_minutes', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    // Every UpgradeCommand.run the Hive sent a device, or tried to, and how it ended (outcome:
    // pending, started, succeeded, rolled_back, failed; reason: the error). The latest attempt keeps a
    // restart from sending a burst; a version rolled back on a device is never tried there again by itself.
    async up(db, kind) {
      await rowid(kind)(
        db.schema
          .createTable('upgrade_attempts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('from_version', 'text', (c) => c.notNull())
          .addColumn('target_version', 'text', (c) => c.notNull())
          .addColumn('target_image', 'text')
          .addColumn('command_id', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('finished_at', 'text'),
      ).execute();
      await db.schema.createIndex('upgrade_attempts_by_device').on('upgrade_attempts').columns(['device_id', 'requested_at']).execute();
      await db.schema.createIndex('upgrade_attempts_by_command').on('upgrade_attempts').column('command_id').execute();
      // The last attempt of each device becomes its first; its command, if it has one, decides its outcome.
      const last: Array<{
        device_id: string;
        last_attempt_at: string;
        reported_version: string;
        target_version: string;
        last_command_id: string | null;
        last_error: string | null;
      }> = (await db.selectFrom('device_upgrades').selectAll().execute()) as any[];
      for (const row of last) {
        await db
          .insertInto('upgrade_attempts')
          .values({
            id: randomBytes(16).toString('hex'),
            device_id: row.device_id,
            requested_at: row.last_attempt_at,
            requested_by: 'hive',
            from_version: row.reported_version,
            target_version: row.target_version,
            target_image: null,
            command_id: row.last_command_id,
            outcome: row.last_error === null ? 'pending' : 'failed',
            reason: row.last_error,
            finished_at: row.last_error === null ? null : row.last_attempt_at,
          })
          .execute();
      }
      await db.schema.dropTable('device_upgrades').execute();
    },
  },
  {
    // Moves that end cancelled say where the app's data is safe (resolved_on, a device id, and
    // resolution, a sentence); every move records when its source's stop was acknowledged
    // (stopped_at), the app's downtime (stop acknowledged → target's start result) and its total time.
    async up(db, kind) {
      const ms = kind === 'postgres' ? 'bigint' : 'integer';
      await db.schema.alterTable('moves').addColumn('resolved_on', 'text').execute();
      await db.schema.alterTable('moves').addColumn('resolution', 'text').execute();
      await db.schema.alterTable('moves').addColumn('stopped_at', 'text').execute();
      await db.schema.alterTable('moves').addColumn('downtime_ms', ms).execute();
      await db.schema.alterTable('moves').addColumn('total_ms', ms).execute();
    },
  },
  {
    // A staged move: the target's SchedulerAction.prepare, sent before the source's stop.
    async up(db) {
      await db.schema.alterTable('moves').addColumn('prepare_command_id', 'text').execute();
    },
  },
  // cluster: the table of @socket.io/postgres-adapter (cluster/postgres-cluster-bus.ts), PostgreSQL only.
  {
    // Messages between Hive processes over NOTIFY's 8000-byte limit wait here for their readers
    // (the adapter deletes them after 30 s). SQLite runs one process: nothing to make.
    async up(db, kind) {
      if (kind !== 'postgres') return;
      await db.schema
        .createTable('socket_io_attachments')
        .addColumn('id', 'bigserial', (c) => c.unique())
        .addColumn('created_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
        .addColumn('payload', 'bytea')
        .execute();
    },
  },
  // leases: work that runs on one Hive process at a time (a move's runs): who holds it, until when.
  {
    // expires_ms is epoch milliseconds by the database's clock (leases/lease.repository.ts), never a
    // process's: two hosts whose clocks disagree still agree on who holds a lease. wanted_by: a
    // process that asked the holder to hand the lease over (a cancel sent to another process).
    async up(db, kind) {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_ms', kind === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .addColumn('wanted_by', 'text')
        .execute();
    },
  },
  {
    // A staged move's first copy: the source's SchedulerAction.replicate, sent before the target's prepare.
    async up(db) {
      await db.schema.alterTable('moves').addColumn('precopy_command_id', 'text').execute();
    },
  },
  {
    // A staged move's second prepare on the target: its stage brought up to date with the source's first copy.
    async up(db) {
      await db.schema.alterTable('moves').addColumn('stage_update_command_id', 'text').execute();
    },
  },
];

/**
 * The params of a SchedulerAction.start (JSON text) without `links.*.token`, or null when there
 * is nothing to remove (no links object).
 */
export function withoutLinkTokens(params: string): string | null {
  const parsed = JSON.parse(params) as Record<string, unknown>;
  const links = parsed.links;
  if (links === null || typeof links !== 'object' || Array.isArray(links)) return null;
  const pruned: Record<string, unknown> = {};
  for (const [name, link] of Object.entries(links as Record<string, unknown>)) {
    if (link !== null && typeof link === 'object' && !Array.isArray(link)) {
      const { token: _token, ...rest } = link as Record<string, unknown>;
      pruned[name] = rest;
    } else {
      pruned[name] = link;
    }
  }
  return JSON.stringify({ ...parsed, links: pruned });
}
