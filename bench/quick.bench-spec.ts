/**
 * Every bench once in quick mode (BENCH_QUICK=1: one run, tiny data, short windows), started as
 * its npm script starts it: it must end by itself, exit 0 and print a usable result line. Only
 * that. A quick run's figures on a shared machine mean nothing, so none is asserted; the budgets
 * are judged by `npm run bench:all`.
 */
import { listBenches, runBenchChild } from './support/benches';
import { figureProblems } from './support/results';

/** The deadline each quick bench is given (BENCH_TIMEOUT_S); on a busy 2-core machine they take 15–60 s. */
const QUICK_TIMEOUT_S = 300;
/** After its own deadline a bench still runs its cleanups; the runner stops it after this much more. */
const RUNNER_GRACE_S = 120;

const benches = listBenches();

describe('benches, quick mode', () => {
  it('finds every bench with the npm script that runs it', () => {
    expect(benches.map((b) => b.name)).toEqual(['device-at-rest', 'device-soak', 'failover', 'hive-load', 'replication', 'start-overhead']);
    expect(benches.find((b) => b.name === 'start-overhead')?.command).toBe('npm run bench');
  });

  // Side by side: they mostly wait (engines starting, restic, sampling windows), and nothing they print is judged.
  it.concurrent.each(benches.map((b) => [b.command, b] as const))(
    '%s completes and prints its figures',
    async (_command, bench) => {
      const run = await runBenchChild(bench, {
        env: { BENCH_QUICK: '1', BENCH_TIMEOUT_S: String(QUICK_TIMEOUT_S) },
        limitS: QUICK_TIMEOUT_S + RUNNER_GRACE_S,
      });
      if (!run.result)
        process.stderr.write(
          `${bench.command} (quick)\n--- stdout, end:\n${run.stdout.slice(-4000)}\n--- stderr, end:\n${run.stderr.slice(-4000)}\n`,
        );
      expect({ code: run.code, failure: run.failure }).toEqual({ code: 0, failure: undefined });
      expect(run.result).toMatchObject({ bench: bench.name, quick: true });
      expect(run.result!.figures.length).toBeGreaterThan(0);
      expect(run.result!.figures.flatMap(figureProblems)).toEqual([]);
      // Quick figures are never judged against a budget.
      expect(run.result!.figures.filter((f) => f.met !== null)).toEqual([]);
    },
    (QUICK_TIMEOUT_S + RUNNER_GRACE_S + 30) * 1000,
  );
});
