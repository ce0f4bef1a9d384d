import { HiveDatabase } from './database';

/** Writes per transaction: enough to share one commit, few enough that no ack waits behind a long batch. */
export const MAX_BATCH = 64;

interface Pending<T> {
  work: () => Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Batches the frequent small writes (device reports): the writes queued in one event-loop turn
 * run together in one transaction, each inside its own savepoint, one after the other, at most
 * MAX_BATCH of them, and one batch at a time. A write that throws rolls back to its savepoint
 * only and its caller gets the error; the others commit. Callers hear their outcome after the
 * commit, in the order they queued, so an ack never promises a write that a failed commit then
 * lost (docs/architecture.md "Report writes"). The same on SQLite and PostgreSQL.
 */
export class WriteBatcher {
  private readonly queue: Pending<unknown>[] = [];
  private scheduled = false;
  private flushing = false;
  private batches = 0;
  private written = 0;

  constructor(
    private readonly db: HiveDatabase,
    private readonly maxBatch: number = MAX_BATCH,
  ) {}

  /** Runs `work` (queries through `db.q`) in the next batch; resolves with its result once that batch committed. */
  run<T>(work: () => Promise<T>): Promise<T> {
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
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // Not in the transaction of whoever queued first: a batch is its own.
    this.db.detached(() => setImmediate(() => void this.flush()));
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (!batch.length) return;
    this.flushing = true;
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction(async () => {
        const done: Outcome[] = [];
        for (const item of batch) {
          try {
            // A savepoint each: a throw undoes that write alone.
            done.push({ ok: true, value: await this.db.transaction(item.work) });
          } catch (error) {
            done.push({ ok: false, error });
          }
        }
        return done;
      });
    } catch (error) {
      // The commit itself failed: nothing of this batch is stored.
      for (const item of batch) item.reject(error);
      this.afterFlush();
      return;
    }
    this.batches++;
    this.written += batch.length;
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    this.afterFlush();
  }

  /** Writes queued while a batch ran go in the next one. */
  private afterFlush(): void {
    this.flushing = false;
    if (this.queue.length) this.schedule();
  }
}
