import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** How far up to look: dist/apps/<app> → repository is 3 levels, libs/ops/src → repository is 3. */
const MAX_LEVELS = 6;
const PACKAGE_NAME = 'mosaic';

/**
 * The version Mosaic's programs report: the `version` of the nearest `package.json` named
 * "mosaic" above `from`. It is read when the program starts, not compiled into its bundle, so an
 * image build that names another version (the Dockerfile's VERSION, written into the image's
 * /code/package.json by scripts/set-version.js) changes only that file: every build stage before
 * it stays cached. From the sources (ts-jest) and from a bundle (dist/apps/<app>/main.js, where
 * `__dirname` is dist/apps/<app>) it finds the repository's own package.json.
 */
export function packageVersion(from: string = __dirname): string {
  let dir = from;
  for (let level = 0; level <= MAX_LEVELS; level++) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === PACKAGE_NAME) {
      if (typeof manifest.version !== 'string' || manifest.version === '') throw new Error(`${join(dir, 'package.json')} names no version`);
      return manifest.version;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`no package.json named "${PACKAGE_NAME}" in ${from} or the ${MAX_LEVELS} folders above it: the program's files are not where it was installed`);
}

function readManifest(path: string): { name?: unknown; version?: unknown } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? (parsed as { name?: unknown; version?: unknown }) : undefined;
}
