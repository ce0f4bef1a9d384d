/**
 * How much the trust-boundary fuzz runs and from which seed (README "Fuzzed at the boundary"):
 * FUZZ_RUNS is the total over all properties (default 10,400), shared as SHARES says; FUZZ_SEED
 * fixes fast-check's seed (default a fixed date, so CI runs the same cases every time). A failing
 * property prints its seed and path; FUZZ_SEED=<seed> FUZZ_PATH=<path> replays exactly that case.
 */
export const DEFAULT_RUNS = 10_400;
export const DEFAULT_SEED = 20261206;

/** Each property's part of the total: hostile envelopes (after and before the handshake), params, compose templates, app-command arguments. */
export const SHARES = {
  envelopes: 4050,
  preHandshake: 200,
  params: 4000,
  composeEarly: 800,
  composeInstall: 100,
  appArgs: 1250,
} as const;
export type FuzzProperty = keyof typeof SHARES;

export interface FuzzSettings {
  seed: number;
  total: number;
  runs: Record<FuzzProperty, number>;
  /** fast-check's replay path, when FUZZ_PATH is given. */
  path?: string;
}

function whole(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be a whole number of at least ${min}, not ${JSON.stringify(text)}`);
  return value;
}

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const total = whole('FUZZ_RUNS', env.FUZZ_RUNS, DEFAULT_RUNS, Object.keys(SHARES).length);
  const seed = whole('FUZZ_SEED', env.FUZZ_SEED, DEFAULT_SEED, 0);
  const sum = Object.values(SHARES).reduce((a, b) => a + b, 0);
  const runs = Object.fromEntries(
    Object.entries(SHARES).map(([name, share]) => [name, Math.max(1, Math.round((total * share) / sum))]),
  ) as Record<FuzzProperty, number>;
  return { seed, total: Object.values(runs).reduce((a, b) => a + b, 0), runs, ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}) };
}

/** fast-check's parameters for one property: its runs, the seed, the replay path. */
export function checkParameters(settings: FuzzSettings, property: FuzzProperty) {
  return { numRuns: settings.runs[property], seed: settings.seed, ...(settings.path ? { path: settings.path } : {}), endOnFailure: true };
}

export function replayHint(settings: FuzzSettings): string {
  return `fuzz: seed ${settings.seed}, ${settings.total} runs (${Object.entries(settings.runs)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )}); replay a failure with FUZZ_SEED=<seed> FUZZ_PATH=<path> FUZZ_RUNS=${settings.total} npx jest test/e2e/trust-boundary-fuzz.e2e-spec.ts`;
}
