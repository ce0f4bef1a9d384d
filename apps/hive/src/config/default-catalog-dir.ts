import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** How far up to look: dist/apps/hive → repo is 3 levels, apps/hive/src/config → repo is 4. */
const MAX_LEVELS = 6;

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/**
 * The repository's `catalog/` folder, found from where this code runs: the webpack bundle
 * (`dist/apps/hive/main.js`, where `__dirname` is `dist/apps/hive`) and the sources under ts-jest
 * (`apps/hive/src/config`) sit at different depths, so the nearest ancestor holding both a
 * `package.json` and a `catalog/` folder wins. Without one, the bundle's layout is assumed, so
 * the boot error names a sensible path.
 */
export function defaultCatalogDir(from: string = __dirname): string {
  return nearestWith('catalog', from) ?? join(from, '../../../catalog');
}

/**
 * The built Console (`npm run build` writes it to dist/apps/console), found the same way: from the
 * nearest folder above that holds package.json and dist/apps/console; else beside the bundle.
 */
export function defaultConsoleDir(from: string = __dirname): string {
  return nearestWith('dist/apps/console', from) ?? join(from, '../console');
}

function nearestWith(folder: string, from: string): string | undefined {
  let dir = from;
  for (let level = 0; level <= MAX_LEVELS; level++) {
    const candidate = join(dir, folder);
    if (existsSync(join(dir, 'package.json')) && isDirectory(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}
