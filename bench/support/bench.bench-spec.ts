import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseFailure, parseResult } from './results';

const ROOT = join(__dirname, '../..');

/** Runs the fixture bench in `mode` as a bench runs, and what it printed. */
function tiny(mode: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', './bench/support/register.js', 'bench/support/fixtures/tiny.bench-fixture.ts', mode],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

describe('runBench', () => {
  it('prints the result line, runs the cleanups last-registered first, and exits 0', async () => {
    const run = await tiny('ok');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('cleanup:'))).toEqual(['cleanup: stopped thing', 'cleanup: first']);
    expect(parseResult(run.stdout)).toEqual({
      bench: 'tiny',
      quick: false,
      runs: 1,
      figures: [{ figure: 'nothing', value: 1, unit: 'ms', floor: { what: 'less', value: 0.5 }, met: true }],
    });
  });

  it('in quick mode judges no budget', async () => {
    const run = await tiny('ok', { BENCH_QUICK: '1' });
    expect(parseResult(run.stdout)).toMatchObject({ quick: true, figures: [{ met: null }] });
  });

  it('ends a step that waits too long with one line naming it, after the cleanups', async () => {
    const run = await tiny('step-timeout');
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe('BENCH_FAILED tiny: step "an answer that never comes" did not finish within 0.2 s');
    expect(run.stdout).toContain('cleanup: first');
    expect(parseResult(run.stdout)).toBeUndefined();
  });

  it('ends a run past its total deadline with the step it was in', async () => {
    const run = await tiny('total-timeout');
    expect(run.code).toBe(1);
    expect(parseFailure(run.stderr)).toMatch(
      /^tiny: the whole bench did not finish within 2 s; it was in step "a long wait" \(for \d+ s\)$/,
    );
    expect(run.stdout).toContain('cleanup: stopped thing');
  });

  it("keeps a broken step's whole error above the one line, which holds its first line", async () => {
    const run = await tiny('error');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('second line');
    expect(lastLine(run.stderr)).toBe('BENCH_FAILED tiny: step "a step that breaks" failed: broken on purpose');
  });

  it('refuses a malformed setting with one line', async () => {
    const run = await tiny('ok', { BENCH_TIMEOUT_S: 'soon' });
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe('BENCH_FAILED tiny: BENCH_TIMEOUT_S must be a number > 0, got "soon"');
  });
});
