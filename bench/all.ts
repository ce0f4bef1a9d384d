/**
 * Every bench in full, one after the other (they would disturb each other's figures side by
 * side), then one table: figure, floor, ratio, budget, and the machine they ran on. Printed and
 * written to bench/results/latest.md (not committed: it describes one machine at one time).
 * Arguments pick benches by name; BENCH_QUICK=1 runs them all in quick mode.
 *
 *   node -r ./bench/support/register.js bench/all.ts [start-overhead failover …]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listBenches, runBenchChild } from './support/benches';
import { factsOfRun, machineFacts } from './support/machine';
import { BenchOutcome, resultsTable } from './support/results';

/** Each bench ends itself by its own deadlines; this backstop only catches one that does not. */
const BACKSTOP_S = 2 * 60 * 60;
const RESULTS = join(__dirname, 'results/latest.md');

async function main(): Promise<number> {
  const all = listBenches();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !all.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown bench(es) ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
  const benches = wanted.length ? all.filter((b) => wanted.includes(b.name)) : all;
  const quick = process.env.BENCH_QUICK === '1';
  const startedAt = new Date();
  const factsBefore = await machineFacts();

  const outcomes: BenchOutcome[] = [];
  for (const bench of benches) {
    process.stdout.write(`\n=== ${bench.command}${quick ? ' (quick)' : ''}\n`);
    const outcome = await runBenchChild(bench, {
      limitS: BACKSTOP_S,
      onOutput: (chunk, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
    });
    outcomes.push(outcome);
  }

  const facts = factsOfRun(factsBefore, await machineFacts());
  const report = [
    `## Benchmarks, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (quick mode: tiny data, one run, budgets not judged)' : ''}`,
    '',
    resultsTable(outcomes),
    '',
    `Machine: ${facts.map(([what, value]) => `${what} ${value}`).join('; ')}.`,
    '',
  ].join('\n');
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  writeFileSync(RESULTS, report);
  process.stdout.write(`\n${report}\n(written to bench/results/latest.md)\n`);
  return outcomes.every((o) => o.result) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench:all: ${err.message}\n`);
    process.exit(1);
  },
);
