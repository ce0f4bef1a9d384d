import { Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase } from './database';
import { IN_MEMORY, SqliteDatabase } from './sqlite-database';
import { openTestDatabase } from '../testing/test-database';
import { MAX_BATCH, WriteBatcher, WriteGroup } from './write-batcher';

describe('WriteBatcher', () => {
  let db: HiveDatabase;
  const rows = async () => (await sql<{ n: number }>`SELECT n FROM scratch ORDER BY seq`.execute(db.q)).rows.map((r) => r.n);
  const insert = (n: number) => async () => {
    await sql`INSERT INTO scratch (seq, n) VALUES (${++seq}, ${n})`.execute(db.q);
    return n;
  };
  let seq = 0;
  /** A group that inserts its inputs one by one and records each writeAll call. */
  const insertingGroup = <T>(answer: (n: number) => T) => {
    const calls: number[][] = [];
    const group: WriteGroup<number, T> = {
      async writeAll(ns) {
        calls.push(ns);
        for (const n of ns) await insert(n)();
        return ns.map(answer);
      },
    };
    return { calls, group };
  };

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    db = await openTestDatabase();
    await sql`CREATE TABLE scratch (seq INTEGER NOT NULL, n INTEGER NOT NULL CHECK (n >= 0))`.execute(db.q);
  });
  afterEach(async () => db.close());

  it('runs the writes of one turn in one transaction, in the order they came, and answers after it', async () => {
    const batcher = new WriteBatcher(db);
    const answered: number[] = [];
    const runs = [1, 2, 3, 4].map((n) => batcher.run(insert(n)).then(() => answered.push(n)));
    // Nothing runs in the caller's turn.
    expect(await rows()).toEqual([]);
    await Promise.all(runs);
    expect(await rows()).toEqual([1, 2, 3, 4]);
    expect(answered).toEqual([1, 2, 3, 4]);
    expect(batcher.stats).toEqual({ batches: 1, writes: 4 });
  });

  it('a write that fails is undone alone: the others are stored and answered', async () => {
    const batcher = new WriteBatcher(db);
    const twoStatements = async () => {
      await insert(7)();
      await insert(-1)(); // violates the CHECK: 7 must go with it
    };
    const outcomes = await Promise.allSettled([batcher.run(insert(1)), batcher.run(twoStatements), batcher.run(insert(3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/CHECK constraint failed|violates check constraint/);
    expect(await rows()).toEqual([1, 3]);
    expect(batcher.stats).toEqual({ batches: 1, writes: 3 });
  });

  it('caps a batch, so a long queue is committed in several batches, every write stored', async () => {
    const batcher = new WriteBatcher(db, 3);
    await Promise.all(Array.from({ length: 7 }, (_, n) => batcher.run(insert(n))));
    expect((await rows()).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batcher.stats).toEqual({ batches: 3, writes: 7 });
    expect(MAX_BATCH).toBeLessThanOrEqual(64);
  });

  it('one batch at a time: the first is answered before the later ones are written', async () => {
    const batcher = new WriteBatcher(db, 2, 1);
    const events: string[] = [];
    const logged = (n: number) => async () => {
      events.push(`write ${n}`);
      return insert(n)();
    };
    await Promise.all([0, 1, 2, 3].map((n) => batcher.run(logged(n)).then(() => events.push(`answer ${n}`))));
    expect(events).toEqual(['write 0', 'write 1', 'answer 0', 'answer 1', 'write 2', 'write 3', 'answer 2', 'answer 3']);
    expect(await rows()).toEqual([0, 1, 2, 3]);
  });

  it('with several batches in flight, answers still come in the order the writes were queued', async () => {
    const batcher = new WriteBatcher(db, 2, 3);
    const answered: number[] = [];
    // The first batch's writes are the slowest: later batches may commit before it.
    const slow = (n: number) => async () => {
      await sql`SELECT CAST(${n} AS INTEGER)`.execute(db.q);
      await sql`SELECT CAST(${n} AS INTEGER)`.execute(db.q);
      return insert(n)();
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map((n) => batcher.run(n < 2 ? slow(n) : insert(n)).then(() => answered.push(n))));
    expect(answered).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await rows()).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(batcher.stats).toEqual({ batches: 3, writes: 6 });
  });

  it('does neighbouring writes of one group in one writeAll, the others alone, in queue order', async () => {
    const batcher = new WriteBatcher(db);
    const { calls, group } = insertingGroup((n) => `stored ${n}`);
    const answers = await Promise.all([
      batcher.runGrouped(group, 1),
      batcher.runGrouped(group, 2),
      batcher.runGrouped(group, 3),
      batcher.run(insert(4)),
      batcher.runGrouped(group, 5),
    ]);
    expect(answers).toEqual(['stored 1', 'stored 2', 'stored 3', 4, 'stored 5']);
    expect(calls).toEqual([[1, 2, 3], [5]]);
    expect(await rows()).toEqual([1, 2, 3, 4, 5]);
    expect(batcher.stats).toEqual({ batches: 1, writes: 5 });
  });

  it('a grouped write that fails is undone alone: its group is written again one input at a time', async () => {
    const batcher = new WriteBatcher(db);
    const { calls, group } = insertingGroup((n) => n); // -1 violates the CHECK
    const outcomes = await Promise.allSettled([batcher.runGrouped(group, 1), batcher.runGrouped(group, -1), batcher.runGrouped(group, 3)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual([[1, -1, 3], [1], [-1], [3]]);
    expect(await rows()).toEqual([1, 3]);
  });

  it('a batch of nothing but an atomic group\'s writes runs without a transaction around it; any other batch in one', async () => {
    const batcher = new WriteBatcher(db);
    const inTransaction: boolean[] = [];
    const group: WriteGroup<number, number> = {
      atomic: true,
      async writeAll(ns) {
        inTransaction.push(db.inTransaction);
        return db.transaction(async () => {
          for (const n of ns) await insert(n)();
          return ns;
        });
      },
    };
    expect(await Promise.all([batcher.runGrouped(group, 1), batcher.runGrouped(group, 2)])).toEqual([1, 2]);
    expect(inTransaction).toEqual([false]);
    // Beside another write, the group's writeAll joins the batch's transaction.
    expect(await Promise.all([batcher.runGrouped(group, 3), batcher.run(insert(4))])).toEqual([3, 4]);
    expect(inTransaction).toEqual([false, true]);
    // A failing input is still undone alone.
    const outcomes = await Promise.allSettled([batcher.runGrouped(group, 5), batcher.runGrouped(group, -1)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(await rows()).toEqual([1, 2, 3, 4, 5]);
  });

  it('a batch is its own transaction, not that of a caller who queued inside one', async () => {
    const batcher = new WriteBatcher(db);
    let queued!: Promise<number>;
    await expect(
      db.transaction(async () => {
        queued = batcher.run(insert(5));
        await insert(6)();
        throw new Error('the caller rolls back');
      }),
    ).rejects.toThrow('the caller rolls back');
    expect(await queued).toBe(5);
    expect(await rows()).toEqual([5]);
  });

  it('when the commit fails, every write of the batch hears it', async () => {
    const failingCommit = {
      detached: <T>(work: () => T) => work(),
      async transaction<T>(work: () => Promise<T>): Promise<T> {
        await work();
        throw new Error('disk I/O error');
      },
    } as unknown as HiveDatabase;
    const batcher = new WriteBatcher(failingCommit);
    const outcomes = await Promise.allSettled([batcher.run(async () => 1), batcher.run(async () => 2)]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.value))).toEqual([
      'Error: disk I/O error',
      'Error: disk I/O error',
    ]);
    expect(batcher.stats).toEqual({ batches: 0, writes: 0 });
  });
});

describe('SqliteDatabase statements', () => {
  it('compiles each SQL text once and hands the same statement back', async () => {
    const db = await SqliteDatabase.open(IN_MEMORY, new Logger('test'));
    try {
      const before = db.preparedStatements;
      const one = () => db.q.selectFrom('devices').select('id').where('id', '=', 'x').execute();
      await one();
      await one();
      expect(db.preparedStatements).toBe(before + 1);
    } finally {
      await db.close();
    }
  });
});
