import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchOutcome, BenchResult, parseFailure, parseResult } from './results';

const ROOT = join(__dirname, '../..');
/** After SIGTERM a bench runs its cleanups (each bounded); this is how long they get in all. */
const KILL_GRACE_MS = 120_000;
/** How long after its exit a bench's output may still arrive; a process it left holding the pipe does not hold the runner. */
const OUTPUT_GRACE_MS = 5_000;

export interface BenchEntry {
  /** The file's name without `.bench.ts`, as in its result line. */
  name: string;
  /** Relative to the repository root. */
  file: string;
  /** The npm script that runs it, e.g. `npm run bench:failover`. */
  command: string;
}

/** Every `bench/*.bench.ts`, with the npm script that runs it; a bench without one is an error. */
export function listBenches(): BenchEntry[] {
  const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
  return readdirSync(join(ROOT, 'bench'))
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
    .map((f) => {
      const file = `bench/${f}`;
      const script = Object.keys(scripts).find((s) => scripts[s].split(' ').at(-1) === file);
      if (!script)
        throw new Error(`${file} has no npm script in package.json; add "bench:<name>": "node -r ./bench/support/register.js ${file}"`);
      return { name: f.slice(0, -'.bench.ts'.length), file, command: `npm run ${script}` };
    });
}

export interface BenchRun extends BenchOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one bench as its own process (as its npm script does), with `env` added to this process's
 * environment. Its own deadlines end it; after `limitS` it is sent SIGTERM anyway (then SIGKILL).
 */
export function runBenchChild(
  entry: BenchEntry,
  options: { env?: Record<string, string>; limitS: number; onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void },
): Promise<BenchRun> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, ['-r', './bench/support/register.js', entry.file], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      out[stream] += chunk;
      options.onOutput?.(chunk, stream);
    });
  }
  let stopped: string | undefined;
  const term = setTimeout(() => {
    stopped = `still running after ${options.limitS} s, stopped by its runner`;
    child.kill('SIGTERM');
  }, options.limitS * 1000);
  const kill = setTimeout(() => child.kill('SIGKILL'), options.limitS * 1000 + KILL_GRACE_MS);
  return new Promise((resolve) => {
    let settled = false;
    let outputGrace: NodeJS.Timeout | undefined;
    const finish = (code: number | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(outputGrace);
      clearTimeout(term);
      clearTimeout(kill);
      let result: BenchResult | undefined;
      let malformed: string | undefined;
      try {
        result = code === 0 ? parseResult(out.stdout) : undefined;
      } catch (err) {
        malformed = `its result line is not JSON: ${(err as Error).message}`;
      }
      const failure = result
        ? undefined
        : (malformed ??
          parseFailure(out.stderr) ??
          stopped ??
          spawnError?.message ??
          `exited with ${code} without a ${code === 0 ? 'result' : 'BENCH_FAILED'} line`);
      resolve({
        bench: entry.name,
        command: entry.command,
        seconds: (performance.now() - startedAt) / 1000,
        code,
        ...out,
        result,
        failure,
      });
    };
    child.once('error', (err) => finish(null, err));
    child.once('exit', (code) => (outputGrace = setTimeout(() => finish(code), OUTPUT_GRACE_MS)));
    child.once('close', (code) => finish(code));
  });
}
