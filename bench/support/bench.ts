/**
 * What every bench runs inside: a deadline on each step and on the whole run, cleanups that run
 * however it ends, quick mode (BENCH_QUICK=1), and the one machine-readable result line that
 * `npm run bench:all` and the CI spec collect. A bench that cannot go on exits non-zero with one
 * line saying which step it was in and what it waited for; it never waits without a deadline.
 */
import { BenchResult, FAILED_PREFIX, Figure, RESULT_PREFIX } from './results';

/** How long each cleanup (stopping an engine, a plugin, removing a folder) may take. */
const CLEANUP_LIMIT_S = 60;

export class BenchFailure extends Error {}

interface Cleanup {
  what: string;
  run(): Promise<unknown>;
}

/** Resolves with `work`, or rejects with `onTimeout()` after `limitMs`; the timer never outlives it. */
export function withDeadline<T>(work: Promise<T>, limitMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), limitMs)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export class Bench {
  /** BENCH_QUICK=1: one run on tiny data with short windows, only to show the bench still works. */
  readonly quick = process.env.BENCH_QUICK === '1';
  private readonly cleanups: Cleanup[] = [];
  /** The steps under way (several at once when a bench waits on things side by side). */
  private readonly inFlight = new Map<number, { what: string; since: number }>();
  private nextStep = 0;

  constructor(readonly name: string) {}

  /** Repetitions: BENCH_RUNS, else `fallback`; always 1 in quick mode. */
  runs(fallback: number): number {
    return this.quick ? 1 : numberFromEnv('BENCH_RUNS', fallback, { whole: true });
  }

  /** A number (seconds, MiB, devices…) from the environment, else the quick or the full default. */
  setting(name: string, full: number, quick: number, rule: NumberRule = {}): number {
    return numberFromEnv(name, this.quick ? quick : full, rule);
  }

  /** One step, named by what it waits for: fails the bench if it takes longer than `limitS`. */
  async step<T>(what: string, limitS: number, work: () => Promise<T>): Promise<T> {
    const key = this.nextStep++;
    this.inFlight.set(key, { what, since: Date.now() });
    try {
      return await withDeadline(work(), limitS * 1000, () => new BenchFailure(`step "${what}" did not finish within ${limitS} s`));
    } catch (err) {
      if (err instanceof BenchFailure) throw err;
      throw new BenchFailure(`step "${what}" failed: ${(err as Error).message ?? String(err)}`, { cause: err });
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * Starts something that must be stopped however the bench ends (an engine, a plugin, a temp
   * folder). Its stop is registered before the start resolves, so a start that outlives its
   * step is still stopped once it completes.
   */
  resource<T>(what: string, limitS: number, start: () => Promise<T>, stop: (value: T) => unknown): Promise<T> {
    const started = start();
    this.cleanups.push({ what: `stopping ${what}`, run: () => started.then(stop, () => undefined) });
    return this.step(`starting ${what}`, limitS, () => started);
  }

  /** Runs `work` however the bench ends, after what was registered later. */
  cleanup(what: string, work: () => unknown): void {
    this.cleanups.push({ what, run: async () => work() });
  }

  /** What is waited for right now, for the total deadline's message. */
  describeInFlight(): string {
    if (this.inFlight.size === 0) return 'between steps';
    const now = Date.now();
    return [...this.inFlight.values()].map(({ what, since }) => `in step "${what}" (for ${Math.round((now - since) / 1000)} s)`).join(', ');
  }

  /** Every cleanup, last registered first, each with its own deadline; returns what failed. */
  async runCleanups(): Promise<string[]> {
    const problems: string[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await withDeadline(cleanup.run(), CLEANUP_LIMIT_S * 1000, () => new Error(`did not finish within ${CLEANUP_LIMIT_S} s`));
      } catch (err) {
        problems.push(`${cleanup.what}: ${(err as Error).message}`);
      }
    }
    return problems;
  }
}

export interface NumberRule {
  whole?: boolean;
  /** The least value allowed; without it, any number above 0. */
  min?: number;
}

function numberFromEnv(name: string, fallback: number, { whole = false, min }: NumberRule = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const fits = Number.isFinite(value) && (!whole || Number.isInteger(value)) && (min === undefined ? value > 0 : value >= min);
  if (!fits)
    throw new BenchFailure(`${name} must be a ${whole ? 'whole ' : ''}number ${min === undefined ? '> 0' : `≥ ${min}`}, got "${raw}"`);
  return value;
}

export interface BenchPlan {
  /** The whole run's deadline in seconds, given the settings read by then. */
  totalS(bench: Bench): number;
  /** Measures; returns the figures for the result line (each bench prints its own story on the way). */
  run(bench: Bench): Promise<{ figures: Figure[]; runs?: number; notes?: string[] }>;
}

/**
 * Runs a bench to its end: the result line and exit 0, or one BENCH_FAILED line and exit 1 (also
 * on its total deadline, BENCH_TIMEOUT_S overriding it, and on SIGINT/SIGTERM); cleanups always.
 */
export function runBench(name: string, plan: BenchPlan): void {
  const bench = new Bench(name);
  void (async () => {
    let failure: string | undefined;
    let detail: string | undefined;
    let result: BenchResult | undefined;
    try {
      const totalS = numberFromEnv('BENCH_TIMEOUT_S', plan.totalS(bench));
      const interrupted = new Promise<never>((_, reject) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.once(signal, () => reject(new BenchFailure(`interrupted by ${signal} ${bench.describeInFlight()}`)));
        }
      });
      const measured = await withDeadline(
        Promise.race([plan.run(bench), interrupted]),
        totalS * 1000,
        () => new BenchFailure(`the whole bench did not finish within ${totalS} s; it was ${bench.describeInFlight()}`),
      );
      result = {
        bench: name,
        quick: bench.quick,
        ...measured,
        figures: measured.figures.map((f) => (bench.quick ? { ...f, met: null } : f)),
      };
    } catch (err) {
      failure = err instanceof BenchFailure ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
      const cause = err instanceof BenchFailure ? err.cause : err;
      detail = cause instanceof Error ? cause.stack : undefined;
    }
    const problems = await bench.runCleanups();
    if (result && problems.length === 0) {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      process.exit(0);
    }
    if (detail) process.stderr.write(`${detail}\n`);
    for (const problem of problems) process.stderr.write(`cleanup: ${problem}\n`);
    const why = failure ?? `cleanup failed: ${problems.join('; ')}`;
    // One line, last: what bench:all and the CI spec show.
    process.stderr.write(`${FAILED_PREFIX}${name}: ${why.split('\n')[0]}\n`);
    process.exit(1);
  })();
}
