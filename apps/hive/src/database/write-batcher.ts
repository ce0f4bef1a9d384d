import { SqliteDatabase } from './sqlite-database';

/** Writes per transaction: enough to share one commit, few enough that no ack waits behind a long batch. */
export const MAX_BATCH = 64;

interface Pending<T> {
  work: () => T;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Batches the frequent small writes (device reports): the writes queued in one event-loop turn
 * run together in one transaction, each inside its own savepoint, at most MAX_BATCH of them.
 * A write that throws rolls back to its savepoint only and its caller gets the error; the others
 * commit. Callers hear their outcome after the commit, in the order they queued, so an ack never
 * promises a write that a failed commit then lost (docs/architecture.md "Report writes").
 */
export class WriteBatcher {
  private readonly queue: Pending<unknown>[] = [];
  private scheduled = false;
  private batches = 0;
  private written = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxBatch: number = MAX_BATCH,
  ) {}

  /** Runs `work` (synchronous SQL) in the next batch; resolves with its result once that batch committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Batches committed and writes run so far (for tests and the bench's figures). */
  get stats(): { batches: number; writes: number } {
    return { batches: this.batches, writes: this.written };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length) this.schedule();
    if (!batch.length) return;
    let outcomes: Outcome[];
    try {
      // Nested transactions are savepoints in better-sqlite3: a throw undoes that write alone.
      outcomes = this.db.transaction(() =>
        batch.map((item): Outcome => {
          try {
            return { ok: true, value: this.db.transaction(item.work) };
          } catch (error) {
            return { ok: false, error };
          }
        }),
      );
    } catch (error) {
      // The commit itself failed: nothing of this batch is stored.
      for (const item of batch) item.reject(error);
      return;
    }
    this.batches++;
    this.written += batch.length;
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
