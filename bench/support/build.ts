import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
/** What each built program is made from, to tell a stale build. */
const SOURCES: Record<BuiltApp, string[]> = {
  device: ['apps/device/src', 'libs/protocol/src'],
  hive: ['apps/hive/src', 'libs/protocol/src'],
  'storage-plugin': ['apps/storage-plugin/src', 'libs/protocol/src'],
};

export type BuiltApp = 'device' | 'hive' | 'storage-plugin';

export function builtMain(app: BuiltApp): string {
  return join(ROOT, 'dist/apps', app, 'main.js');
}

function newestSource(dirs: string[]): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const { mtimeMs } = statSync(path);
        if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
      }
    }
  };
  for (const dir of dirs) walk(join(ROOT, dir));
  return newest;
}

/**
 * A bench that runs a program as users do runs its build (dist/apps/<app>/main.js): built here
 * when missing (`nest build <app>`); a build older than its sources is measured with a note.
 */
export async function ensureBuilt(app: BuiltApp): Promise<void> {
  const main = builtMain(app);
  if (!existsSync(main)) {
    console.log(`dist/apps/${app}/main.js is missing: building it (nest build ${app})…`);
    const nest = join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [nest, 'build', app], { cwd: ROOT, stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0 || !existsSync(main)) throw new Error(`nest build ${app} failed (exit ${code})`);
    return;
  }
  const newest = newestSource(SOURCES[app]);
  if (newest.mtimeMs > statSync(main).mtimeMs) {
    console.log(
      `note: ${newest.path.slice(ROOT.length + 1)} is newer than dist/apps/${app}/main.js; run \`npm run build\` to measure the current sources`,
    );
  }
}
