import { Kysely, Transaction, sql } from 'kysely';
import { AsyncLocalStorage } from 'node:async_hooks';
import { MIGRATIONS } from './migrations';
import { HiveTables } from './schema';

export type HiveDb = Kysely<HiveTables>;
export type DatabaseKind = 'sqlite' | 'postgres';
export type DatabaseCheck = { ok: true } | { ok: false; error: string };

/** The transaction a piece of async work runs in; `open` turns false when it ends. */
interface TransactionScope {
  trx: Transaction<HiveTables>;
  open: boolean;
  /** What `afterTransaction` queued: told whether the transaction committed once it ended. */
  ended: Array<(committed: boolean) => void>;
}

/**
 * The store layer's one seam (docs/architecture.md "The store"): a Kysely instance over SQLite or
 * PostgreSQL, with transactions that repositories join without being handed them. Repositories
 * read `q`: inside `transaction(work)` (anywhere in its async call tree) that is the transaction,
 * elsewhere the database itself. Nothing outside database/ imports a driver.
 */
export abstract class HiveDatabase {
  abstract readonly kind: DatabaseKind;
  /** What the logs may show of where the data lives: a path, or a URL without its password. */
  abstract readonly description: string;
  protected abstract readonly root: HiveDb;
  private readonly scope = new AsyncLocalStorage<TransactionScope>();
  private savepoints = 0;

  /** The query builder for the caller: its open transaction's, or the database's. */
  get q(): HiveDb {
    const scope = this.scope.getStore();
    return scope?.open ? scope.trx : this.root;
  }

  /** True inside `transaction(work)`. */
  get inTransaction(): boolean {
    return this.scope.getStore()?.open === true;
  }

  /**
   * Runs `work` in one transaction: it commits when `work` resolves and rolls back when it throws.
   * Called inside another transaction, `work` runs in a savepoint of it: a throw undoes `work`
   * alone (and reaches the caller, who decides about the rest).
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const outer = this.scope.getStore();
    if (outer?.open) return this.inSavepoint(outer, work);
    const ended: Array<(committed: boolean) => void> = [];
    let committed = false;
    try {
      const value = await this.root.transaction().execute(async (trx) => {
        const scope: TransactionScope = { trx, open: true, ended };
        try {
          return await this.scope.run(scope, work);
        } finally {
          // Work it scheduled to run later (timers, listeners) must not use a transaction that ended.
          scope.open = false;
        }
      });
      committed = true;
      return value;
    } finally {
      this.detached(() => {
        for (const callback of ended) callback(committed);
      });
    }
  }

  /**
   * Tells `callback` whether what the caller wrote was committed, once every reader can see it:
   * after the outermost transaction the caller is in ended (false when it, or the savepoint the
   * call was made in, rolled back), or on the next turn of the event loop outside a transaction
   * (true). The callback runs outside any transaction.
   */
  afterTransaction(callback: (committed: boolean) => void): void {
    const scope = this.scope.getStore();
    if (scope?.open) scope.ended.push(callback);
    else setImmediate(() => this.detached(() => callback(true)));
  }

  /** Runs `work` outside any transaction its caller is in (for work queued by one caller and run for many). */
  detached<T>(work: () => T): T {
    return this.scope.exit(work);
  }

  private async inSavepoint<T>(scope: TransactionScope, work: () => Promise<T>): Promise<T> {
    const { trx, ended } = scope;
    const name = sql.id(`hive_sp_${++this.savepoints}`);
    await sql`SAVEPOINT ${name}`.execute(trx);
    const queued = ended.length;
    try {
      const value = await work();
      await sql`RELEASE SAVEPOINT ${name}`.execute(trx);
      return value;
    } catch (err) {
      for (const callback of ended.splice(queued)) this.detached(() => callback(false));
      await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(trx);
      await sql`RELEASE SAVEPOINT ${name}`.execute(trx);
      throw err;
    }
  }

  /** Can the database be read right now? /health answers 503 when not. */
  abstract check(): Promise<DatabaseCheck>;

  /** Is this error a unique-constraint violation (the same on both engines)? */
  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
  }

  abstract close(): Promise<void>;

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /**
   * Brings the schema up to MIGRATIONS.length in one transaction; returns the version it found.
   * Refuses a database whose schema is newer than this Hive knows.
   */
  protected async migrate(): Promise<number> {
    return this.transaction(async () => {
      const current = await this.schemaVersion(this.q);
      if (current > MIGRATIONS.length) {
        throw new Error(`${this.description} has schema version ${current}, newer than this Hive knows (${MIGRATIONS.length})`);
      }
      for (let version = current; version < MIGRATIONS.length; version++) await MIGRATIONS[version].up(this.q, this.kind);
      if (current < MIGRATIONS.length) await this.setSchemaVersion(this.q, MIGRATIONS.length);
      return current;
    });
  }

  /** How many migrations have run (0 for an empty database); may lock the schema until the transaction ends. */
  protected abstract schemaVersion(db: HiveDb): Promise<number>;
  protected abstract setSchemaVersion(db: HiveDb, version: number): Promise<void>;
}

/** Did an INSERT, UPDATE or DELETE change a row? (Kysely's results count in bigint.) */
export function affected(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint; numInsertedOrUpdatedRows?: bigint }): boolean {
  return (result.numUpdatedRows ?? result.numDeletedRows ?? result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Values per `IN (…)` list: far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
export const IN_LIST_MAX = 500;

/** `values` without repeats, cut into lists of at most `size` for `IN (…)`. */
export function inChunks<T>(values: readonly T[], size: number = IN_LIST_MAX): T[][] {
  const unique = [...new Set(values)];
  const chunks: T[][] = [];
  for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
  return chunks;
}
