import { BenchResult, parseFailure, parseResult, resultsTable } from './results';

const result: BenchResult = {
  bench: 'start-overhead',
  quick: false,
  runs: 5,
  figures: [
    {
      figure: 'start of a stopped project',
      value: 460.4,
      unit: 'ms',
      floor: { what: 'raw docker compose up -d', value: 384 },
      budget: { line: 'overhead ≤ 150 ms', judged: 'overhead 76 ms' },
      met: true,
    },
    { figure: 'devices | held', value: 20, unit: 'devices', met: null },
  ],
  notes: ['a note'],
};

describe('bench results', () => {
  it('finds the last result line and the failure line among other output', () => {
    expect(parseResult(`run 1/5: …\nBENCH_RESULT {"bench":"old"}\nBENCH_RESULT ${JSON.stringify(result)}\ndone\n`)).toEqual(result);
    expect(parseResult('no line here\n')).toBeUndefined();
    expect(parseFailure('a stack\nBENCH_FAILED failover: step "x" did not finish within 60 s\n')).toBe(
      'failover: step "x" did not finish within 60 s',
    );
  });

  it('makes one table row per figure, with ratio, budget and verdict, and one row per failed bench', () => {
    const table = resultsTable([
      { bench: 'start-overhead', command: 'npm run bench', seconds: 149.4, result },
      { bench: 'failover', command: 'npm run bench:failover', seconds: 12, failure: 'failover: step "x" did not finish within 60 s' },
    ]);
    expect(table.split('\n')).toEqual([
      '| bench | figure | measured | floor | ratio | budget | |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| `npm run bench` | start of a stopped project | 460 ms | 384 ms (raw docker compose up -d) | 1.20× | overhead ≤ 150 ms: overhead 76 ms | within |',
      '| `npm run bench` | devices \\| held | 20 devices |  |  |  | n/a |',
      '| `npm run bench:failover` | FAILED: failover: step "x" did not finish within 60 s | | | | | |',
      '',
      'Run times: `npm run bench` 149 s (5 runs), `npm run bench:failover` 12 s.',
      '',
      '- `npm run bench`: a note',
    ]);
  });
});
