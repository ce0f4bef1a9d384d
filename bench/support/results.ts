/**
 * The benches' machine-readable result line and the table `npm run bench:all` makes of them.
 * A bench prints `BENCH_RESULT {json}` once, at its end, or `BENCH_FAILED <bench>: <why>` last on
 * stderr.
 */
export const RESULT_PREFIX = 'BENCH_RESULT ';
export const FAILED_PREFIX = 'BENCH_FAILED ';

export interface Figure {
  /** What was measured, e.g. "start of a stopped project: command → report.apps running". */
  figure: string;
  value: number;
  unit: string;
  /** The same work done without Mosaic (raw compose, raw restic, idle Node), in the same run and unit. */
  floor?: { what: string; value: number };
  /** The budget line (docs/architecture.md) and the number it is judged on, e.g. "overhead ≤ 150 ms" and "overhead 172 ms". */
  budget?: { line: string; judged: string };
  /** Whether the budget is met; null when this run cannot tell (quick mode, fewer devices than the budget names). */
  met: boolean | null;
}

export interface BenchResult {
  bench: string;
  quick: boolean;
  runs?: number;
  figures: Figure[];
  /** What a reader of the figures must know (a shortened window, a setting that differs from the budget's). */
  notes?: string[];
}

/** The result line in a bench's stdout, if it printed one. */
export function parseResult(stdout: string): BenchResult | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_PREFIX));
  return line === undefined ? undefined : (JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult);
}

/** The one line a failed bench ends its stderr with. */
export function parseFailure(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(FAILED_PREFIX))
    ?.slice(FAILED_PREFIX.length);
}

/** Whether a figure is usable: named, a finite number, with a unit and a usable floor if any. */
export function figureProblems(figure: Figure): string[] {
  const problems: string[] = [];
  if (!figure.figure) problems.push('a figure without a name');
  if (!Number.isFinite(figure.value)) problems.push(`"${figure.figure}": value ${figure.value} is not a finite number`);
  if (figure.floor && !(Number.isFinite(figure.floor.value) && figure.floor.value >= 0))
    problems.push(`"${figure.figure}": floor ${figure.floor.value} is not a number ≥ 0`);
  return problems;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const quantity = (value: number, unit: string) => (unit ? `${formatNumber(value)} ${unit}` : formatNumber(value));
const cell = (text: string) => text.replace(/\|/g, '\\|');

export interface BenchOutcome {
  bench: string;
  command: string;
  seconds: number;
  result?: BenchResult;
  failure?: string;
}

/** One Markdown table of every figure, with its floor, ratio and budget; failed benches say why. */
export function resultsTable(outcomes: BenchOutcome[]): string {
  const rows = ['| bench | figure | measured | floor | ratio | budget | |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const outcome of outcomes) {
    if (!outcome.result) {
      rows.push(`| \`${outcome.command}\` | FAILED: ${cell(outcome.failure ?? 'no result line')} | | | | | |`);
      continue;
    }
    for (const f of outcome.result.figures) {
      const floor = f.floor ? `${quantity(f.floor.value, f.unit)} (${f.floor.what})` : '';
      const ratio = f.floor && f.floor.value > 0 ? `${(f.value / f.floor.value).toFixed(2)}×` : '';
      const budget = f.budget ? `${f.budget.line}: ${f.budget.judged}` : '';
      const verdict = f.met === null ? (outcome.result.quick ? 'quick run' : 'n/a') : f.met ? 'within' : '**over**';
      rows.push(
        [`\`${outcome.command}\``, f.figure, quantity(f.value, f.unit), floor, ratio, budget, verdict]
          .map(cell)
          .join(' | ')
          .replace(/^/, '| ')
          .concat(' |'),
      );
    }
  }
  const notes = outcomes.flatMap((o) => (o.result?.notes ?? []).map((n) => `- \`${o.command}\`: ${n}`));
  const took = outcomes
    .map((o) => `\`${o.command}\` ${Math.round(o.seconds)} s${o.result?.runs ? ` (${o.result.runs} runs)` : ''}`)
    .join(', ');
  return [...rows, '', `Run times: ${took}.`, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
