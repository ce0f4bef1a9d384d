/**
 * The oldest Docker Engine and Compose Mosaic supports; the test suite runs on exactly these
 * (test/integration/supported-versions.int-spec.ts), so "supported" means "tested".
 */
export const MIN_ENGINE = { version: '20.10', api: '1.41' } as const;
export const MIN_COMPOSE = '2.26.0';

/** Compares dotted version numbers (a leading `v` and any `-suffix`/`+build` ignored): <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, '').split(/[-+]/)[0].split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const diff = (x[i] ?? 0) - (y[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** What is wrong with the engine and Compose a device found, one sentence each (none when supported). */
export function unsupportedVersions(found: { engineApi?: string; engineVersion?: string; compose?: string }): string[] {
  const problems: string[] = [];
  if (found.engineApi !== undefined && compareVersions(found.engineApi, MIN_ENGINE.api) < 0) {
    problems.push(
      `Docker Engine ${found.engineVersion ?? '?'} (API ${found.engineApi}) is older than Mosaic supports: Engine ${MIN_ENGINE.version} (API ${MIN_ENGINE.api}) or newer`,
    );
  }
  if (found.compose !== undefined && compareVersions(found.compose, MIN_COMPOSE) < 0) {
    problems.push(`Docker Compose ${found.compose} is older than Mosaic supports: Compose ${MIN_COMPOSE} or newer`);
  }
  return problems;
}
