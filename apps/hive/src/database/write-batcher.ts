import { HiveDatabase } from './database';

/** Writes per transaction: enough to share one commit, few enough that no ack waits behind a long batch. */
export const MAX_BATCH = 64;
/**
 * Batches in flight at once on PostgreSQL, each on a pooled connection of its own: a batch there
 * waits on round trips, not on the CPU. SQLite has one connection: one batch at a time.
 */
export const POSTGRES_BATCHES_IN_FLIGHT = 4;

/**
 * Writes of one kind that can be done together: `writeAll` does several callers' writes in a few
 * statements (one multi-row INSERT rather than one per caller) and answers each, in order. It must
 * do exactly what the writes one at a time would: the batcher calls it with a single input when
 * it reruns a failed batch write by write.
 */
export interface WriteGroup<I, T> {
  writeAll(inputs: I[]): Promise<T[]>;
  /**
   * True when `writeAll` is atomic by itself (one statement, or a transaction it opens when it
   * needs more): a batch that is nothing but writes of this group then runs without a transaction
   * around it, which on PostgreSQL saves two round trips (BEGIN, COMMIT) per batch.
   */
  readonly atomic?: boolean;
}

interface Pending<T> {
  work: () => Promise<T>;
  /** Set for a write of a group: its neighbours in the queue of the same group run in one writeAll. */
  group?: { of: WriteGroup<unknown, T>; input: unknown };
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Batches the frequent small writes (device reports): the writes queued in one event-loop turn
 * run together in one transaction, one after the other, at most MAX_BATCH of them; one batch at
 * a time on SQLite, up to POSTGRES_BATCHES_IN_FLIGHT on PostgreSQL. A write that throws is undone alone (the batch is run again, each write in its own
 * transaction) and its caller gets the error; the others commit. Callers hear their outcome after the
 * commit, in the order they queued, so an ack never promises a write that a failed commit then
 * lost (docs/architecture.md "Report writes"). The same on SQLite and PostgreSQL.
 */
export class WriteBatcher {
  private readonly queue: Pending<unknown>[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Settles once every batch taken so far has answered its callers: the next one answers after it. */
  private answered: Promise<void> = Promise.resolve();
  private batches = 0;
  private written = 0;

  constructor(
    private readonly db: HiveDatabase,
    private readonly maxBatch: number = MAX_BATCH,
    private readonly maxInFlight: number = db.kind === 'postgres' ? POSTGRES_BATCHES_IN_FLIGHT : 1,
  ) {}

  /**
   * Runs `work` (queries through `db.q`) in the next batch; resolves with its result once that
   * batch committed. `work` may run twice (after another write of its batch failed): it must only
   * write what is safe to write again, as a report kept if newer is.
   */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Like `run`, for a write of `group`: the writes of the same group that are next to each other
   * in a batch are done by one `group.writeAll` (on PostgreSQL a round trip or two for them all,
   * not one or two per write). Resolves with this input's answer once the batch committed.
   */
  runGrouped<I, T>(group: WriteGroup<I, T>, input: I): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const work = async () => {
        const [value] = await group.writeAll([input]);
        return value;
      };
      this.queue.push({ work, group: { of: group as WriteGroup<unknown, unknown>, input }, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Batches committed and writes run so far (for tests and the bench's figures). */
  get stats(): { batches: number; writes: number } {
    return { batches: this.batches, writes: this.written };
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // Not in the transaction of whoever queued first: a batch is its own.
    this.db.detached(() => setImmediate(() => void this.flush()));
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (!batch.length) return;
    this.inFlight++;
    const previous = this.answered;
    let answeredThis!: () => void;
    this.answered = new Promise<void>((resolve) => (answeredThis = resolve));
    // On PostgreSQL the next batch need not wait for this one's commit.
    if (this.queue.length) this.schedule();
    let outcomes: Outcome[] | undefined;
    let commitError: unknown;
    try {
      outcomes = await this.runBatch(batch);
    } catch (error) {
      commitError = error;
    }
    // Callers hear their outcome in the order they queued, whichever batch committed first.
    await previous;
    if (outcomes === undefined) {
      // The commit itself failed: nothing of this batch is stored.
      for (const item of batch) item.reject(commitError);
    } else {
      this.batches++;
      this.written += batch.length;
      const done = outcomes;
      batch.forEach((item, i) => {
        const outcome = done[i];
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    }
    answeredThis();
    this.afterFlush();
  }

  /**
   * The batch in one transaction (none when it is all one atomic group's writes), its writes one
   * after the other. When a write throws, that transaction is rolled back and the writes are run
   * again each in a transaction of its own (rare: a write that fails), so the one that failed is
   * undone alone. No savepoint per write on the way that succeeds: on PostgreSQL each would be
   * two more round trips.
   */
  private async runBatch(batch: Pending<unknown>[]): Promise<Outcome[]> {
    let failed = false;
    const runs = runsOf(batch);
    // A batch of one atomic group's writes needs no transaction of its own.
    const atomic = runs.length === 1 && runs[0][0].group?.of.atomic === true;
    try {
      const writeAll = async () => {
        const done: Outcome[] = [];
        for (const run of runs) {
          try {
            if (run.length === 1) {
              done.push({ ok: true, value: await run[0].work() });
              continue;
            }
            const values = await run[0].group!.of.writeAll(run.map((item) => item.group!.input));
            if (values.length !== run.length) throw new Error(`a write group answered ${values.length} of ${run.length} writes`);
            for (const value of values) done.push({ ok: true, value });
          } catch (error) {
            failed = true;
            throw error;
          }
        }
        return done;
      };
      return await (atomic ? writeAll() : this.db.transaction(writeAll));
    } catch (error) {
      if (!failed) throw error;
    }
    const done: Outcome[] = [];
    for (const item of batch) {
      try {
        done.push({ ok: true, value: await this.db.transaction(item.work) });
      } catch (error) {
        done.push({ ok: false, error });
      }
    }
    return done;
  }

  /** Writes queued while a batch ran go in the next one. */
  private afterFlush(): void {
    this.inFlight--;
    if (this.queue.length) this.schedule();
  }
}

/** The batch cut where the write group changes: neighbours of one group together, every other write alone. */
function runsOf(batch: Pending<unknown>[]): Pending<unknown>[][] {
  const runs: Pending<unknown>[][] = [];
  for (const item of batch) {
    const last = runs[runs.length - 1];
    if (item.group && last?.[0].group?.of === item.group.of) last.push(item);
    else runs.push([item]);
  }
  return runs;
}
