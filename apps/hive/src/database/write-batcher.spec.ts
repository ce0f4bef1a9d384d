import { Logger } from '@nestjs/common';
import { SqliteDatabase } from './sqlite-database';
import { MAX_BATCH, WriteBatcher } from './write-batcher';

describe('WriteBatcher', () => {
  let db: SqliteDatabase;
  const rows = () => (db.prepare('SELECT n FROM scratch ORDER BY rowid').all() as { n: number }[]).map((r) => r.n);
  const insert = (n: number) => () => db.prepare('INSERT INTO scratch (n) VALUES (?)').run(n).lastInsertRowid;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    db = new SqliteDatabase(':memory:');
    db.prepare('CREATE TABLE scratch (n INTEGER NOT NULL CHECK (n >= 0))').run();
  });
  afterEach(() => db.close());

  it('runs the writes of one turn in one transaction, in the order they came, and answers after it', async () => {
    const batcher = new WriteBatcher(db);
    const answered: number[] = [];
    const runs = [1, 2, 3, 4].map((n) => batcher.run(insert(n)).then(() => answered.push(n)));
    // Nothing runs in the caller's turn.
    expect(rows()).toEqual([]);
    await Promise.all(runs);
    expect(rows()).toEqual([1, 2, 3, 4]);
    expect(answered).toEqual([1, 2, 3, 4]);
    expect(batcher.stats).toEqual({ batches: 1, writes: 4 });
  });

  it('a write that fails is undone alone: the others are stored and answered', async () => {
    const batcher = new WriteBatcher(db);
    const twoStatements = () => {
      insert(7)();
      insert(-1)(); // violates the CHECK: 7 must go with it
    };
    const outcomes = await Promise.allSettled([batcher.run(insert(1)), batcher.run(twoStatements), batcher.run(insert(3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/CHECK constraint failed/);
    expect(rows()).toEqual([1, 3]);
    expect(batcher.stats).toEqual({ batches: 1, writes: 3 });
  });

  it('caps a batch, so a long queue is committed in several turns, still in order', async () => {
    const batcher = new WriteBatcher(db, 3);
    await Promise.all(Array.from({ length: 7 }, (_, n) => batcher.run(insert(n))));
    expect(rows()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batcher.stats).toEqual({ batches: 3, writes: 7 });
    expect(MAX_BATCH).toBeLessThanOrEqual(64);
  });

  it('the first batch is answered before the later ones are written', async () => {
    const batcher = new WriteBatcher(db, 2);
    const seenAtAnswer: number[][] = [];
    await Promise.all([0, 1, 2, 3].map((n) => batcher.run(insert(n)).then(() => seenAtAnswer.push(rows()))));
    expect(seenAtAnswer[0]).toEqual([0, 1]);
    expect(seenAtAnswer[3]).toEqual([0, 1, 2, 3]);
  });

  it('when the commit fails, every write of the batch hears it', async () => {
    let depth = 0;
    const failingCommit = {
      transaction<T>(work: () => T): T {
        depth++;
        try {
          return work();
        } finally {
          depth--;
          if (depth === 0) throw new Error('disk I/O error');
        }
      },
    } as unknown as SqliteDatabase;
    const batcher = new WriteBatcher(failingCommit);
    const outcomes = await Promise.allSettled([batcher.run(() => 1), batcher.run(() => 2)]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.value))).toEqual([
      'Error: disk I/O error',
      'Error: disk I/O error',
    ]);
    expect(batcher.stats).toEqual({ batches: 0, writes: 0 });
  });
});

describe('SqliteDatabase.prepare', () => {
  it('compiles each SQL text once and hands the same statement back', () => {
    const db = new SqliteDatabase(':memory:');
    try {
      const before = db.preparedStatements;
      const first = db.prepare('SELECT 1 AS one');
      expect(db.prepare('SELECT 1 AS one')).toBe(first);
      expect(db.preparedStatements).toBe(before + 1);
      expect(first.get()).toEqual({ one: 1 });
    } finally {
      db.close();
    }
  });
});
