import { Injectable } from '@nestjs/common';
import { RawBuilder, sql } from 'kysely';
import { HiveDatabase, affected } from '../database/database';

/** A lease as the table holds it; `live` is judged by the database's clock. */
export interface LeaseHolder {
  owner: string;
  live: boolean;
  wantedBy: string | null;
}

/** What a renewal kept: the leases still held, and which of them another process asked for. */
export interface Renewal {
  name: string;
  wantedBy: string | null;
}

/**
 * The `leases` table (docs/architecture.md "Work shared between Hive processes"): one row per
 * piece of work that must run on one process at a time, with its owner (a process's random id)
 * and when it expires. Every time is the database's clock, read in the statement that uses it,
 * never a process's: hosts whose clocks disagree still agree on who holds a lease. Statements
 * run outside the caller's transaction: a lease is taken or given up at once, whatever the
 * caller's work does next. So a transaction must never await them (on SQLite they wait for the
 * one connection that transaction holds); work it schedules may call them.
 */
@Injectable()
export class LeaseRepository {
  constructor(private readonly db: HiveDatabase) {}

  /** The database's clock, in epoch ms, at the statement's execution. */
  private now(): RawBuilder<number> {
    return this.db.kind === 'postgres'
      ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : sql<number>`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
  }

  private expiresIn(ttlMs: number): RawBuilder<number> {
    return sql<number>`${this.now()} + ${Math.trunc(ttlMs)}`;
  }

  /**
   * Takes the lease when nobody holds it or its holder let it expire, or extends it for the
   * owner who holds it: true when `owner` holds it for `ttlMs` from now. One statement.
   */
  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.detached(async (db) =>
      affected(
        await db
          .insertInto('leases')
          .values({ name, owner, expires_ms: this.expiresIn(ttlMs), wanted_by: null })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({
                owner: (eb) => eb.ref('excluded.owner'),
                expires_ms: (eb) => eb.ref('excluded.expires_ms'),
                // A request to hand the lease over was for the holder it was made to.
                wanted_by: sql<string | null>`CASE WHEN leases.owner = excluded.owner THEN leases.wanted_by ELSE NULL END`,
              })
              .where((eb) => eb.or([eb('leases.owner', '=', owner), eb('leases.expires_ms', '<=', this.now())])),
          )
          .executeTakeFirst(),
      ),
    );
  }

  /** Extends `names` for `owner` where it still holds them; returns those (a lease another process took is not among them). */
  async renew(owner: string, names: readonly string[], ttlMs: number): Promise<Renewal[]> {
    if (names.length === 0) return [];
    return this.detached(async (db) => {
      const rows = await db
        .updateTable('leases')
        .set({ expires_ms: this.expiresIn(ttlMs) })
        .where('owner', '=', owner)
        .where('name', 'in', [...names])
        .returning(['name', 'wanted_by'])
        .execute();
      return rows.map((row) => ({ name: row.name, wantedBy: row.wanted_by }));
    });
  }

  /** Gives the lease up (only the owner's; a lease another process took since stays). */
  async release(name: string, owner: string): Promise<boolean> {
    return this.detached(async (db) => affected(await db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).executeTakeFirst()));
  }

  /** Gives up every lease `owner` holds whose name starts with `prefix`. */
  async releaseAll(owner: string, prefix = ''): Promise<void> {
    await this.detached((db) =>
      db
        .deleteFrom('leases')
        .where('owner', '=', owner)
        .where(sql<boolean>`substr(name, 1, ${prefix.length}) = ${prefix}`)
        .execute(),
    );
  }

  /**
   * Deletes the leases that expired more than `graceMs` ago: work whose holder died after it
   * finished, or before anybody needed the lease again. An expired row already counts as free
   * (tryAcquire takes it), so this changes no outcome; it only keeps the table from growing.
   * Returns how many went.
   */
  async deleteExpired(graceMs: number): Promise<number> {
    return this.detached(async (db) =>
      Number(
        (
          await db
            .deleteFrom('leases')
            .where('expires_ms', '<=', sql<number>`${this.now()} - ${Math.trunc(graceMs)}`)
            .executeTakeFirst()
        ).numDeletedRows,
      ),
    );
  }

  /** Asks the holder of a live lease to hand it over to `by`; false when nobody else holds it. */
  async request(name: string, by: string): Promise<boolean> {
    return this.detached(async (db) =>
      affected(
        await db
          .updateTable('leases')
          .set({ wanted_by: by })
          .where('name', '=', name)
          .where('owner', '<>', by)
          .where('expires_ms', '>', this.now())
          .executeTakeFirst(),
      ),
    );
  }

  /** The holder hands the lease to the process that asked for it, for `ttlMs`; false when nobody asked (or it is not `owner`'s). */
  async handOver(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.detached(async (db) =>
      affected(
        await db
          .updateTable('leases')
          .set({ owner: sql<string>`wanted_by`, wanted_by: null, expires_ms: this.expiresIn(ttlMs) })
          .where('name', '=', name)
          .where('owner', '=', owner)
          .where('wanted_by', 'is not', null)
          .executeTakeFirst(),
      ),
    );
  }

  async holder(name: string): Promise<LeaseHolder | undefined> {
    return this.detached(async (db) => {
      const row = await db
        .selectFrom('leases')
        .select(['owner', 'wanted_by', sql<number | boolean>`expires_ms > ${this.now()}`.as('live')])
        .where('name', '=', name)
        .executeTakeFirst();
      return row && { owner: row.owner, live: row.live === true || row.live === 1, wantedBy: row.wanted_by };
    });
  }

  private detached<T>(work: (db: HiveDatabase['q']) => Promise<T>): Promise<T> {
    return this.db.detached(() => work(this.db.q));
  }
}
