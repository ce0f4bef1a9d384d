import { Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase } from './database';
import { openTestDatabase } from '../testing/test-database';

/** Turns of the event loop: a commit on PostgreSQL takes several, one on SQLite at least one. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('HiveDatabase.afterTransaction', () => {
  let db: HiveDatabase;
  const value = async () => (await sql<{ n: number }>`SELECT n FROM scratch`.execute(db.detached(() => db.q))).rows.map((r) => Number(r.n));

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    db = await openTestDatabase();
    await sql`CREATE TABLE scratch (n INTEGER NOT NULL)`.execute(db.q);
    await sql`INSERT INTO scratch (n) VALUES (1)`.execute(db.q);
  });
  afterEach(async () => db.close());

  it('tells its callback only once the transaction committed, when a reader outside sees the write', async () => {
    const heard: Array<{ committed: boolean; seen: Promise<number[]> }> = [];
    await db.transaction(async () => {
      await sql`UPDATE scratch SET n = 2`.execute(db.q);
      db.afterTransaction((committed) => heard.push({ committed, seen: value() }));
      // The transaction goes on for a while after the callback was queued.
      await turns(5);
      expect(heard).toEqual([]);
    });
    expect(heard.map((h) => h.committed)).toEqual([true]);
    expect(await heard[0].seen).toEqual([2]);
  });

  it('runs its callback outside the transaction', async () => {
    let inside: boolean | undefined;
    await db.transaction(async () => db.afterTransaction(() => (inside = db.inTransaction)));
    expect(inside).toBe(false);
  });

  it('tells its callback false when the transaction rolls back, and the write is gone', async () => {
    const heard: boolean[] = [];
    await expect(
      db.transaction(async () => {
        await sql`UPDATE scratch SET n = 3`.execute(db.q);
        db.afterTransaction((committed) => heard.push(committed));
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(heard).toEqual([false]);
    expect(await value()).toEqual([1]);
  });

  it('a savepoint rolled back tells its own callbacks false, the committed transaction tells the rest true', async () => {
    const heard: string[] = [];
    await db.transaction(async () => {
      db.afterTransaction((committed) => heard.push(`outer ${committed}`));
      await expect(
        db.transaction(async () => {
          db.afterTransaction((committed) => heard.push(`inner ${committed}`));
          throw new Error('undo the savepoint');
        }),
      ).rejects.toThrow('undo the savepoint');
      expect(heard).toEqual(['inner false']);
      await db.transaction(async () => db.afterTransaction((committed) => heard.push(`kept ${committed}`)));
      expect(heard).toEqual(['inner false']);
    });
    expect(heard).toEqual(['inner false', 'outer true', 'kept true']);
  });

  it('outside a transaction, calls back true on a later turn, not in the turn of the caller', async () => {
    const heard: boolean[] = [];
    db.afterTransaction((committed) => heard.push(committed));
    expect(heard).toEqual([]);
    await turns(1);
    expect(heard).toEqual([true]);
  });
});
