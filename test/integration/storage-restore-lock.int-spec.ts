import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunningPlugin, TestKey, pluginPair, pluginRoot, randomName, treeDigest } from '../support/storage-plugin';

jest.setTimeout(90_000);

/**
 * Restores run without restic's lock (it costs a lock file and 200 ms of waiting per restic run),
 * so they may meet the writer's prune, which removes packs under them. Here a stand-in for restic
 * runs the real one, and while `HIDE` exists hides the repository's packs from each run without the
 * lock (as a prune that removed them would), putting them back when it ends.
 */
describe("storage plugin: a restore without restic's lock", () => {
  const root = pluginRoot('restore-lock');
  const replicas = join(root.path, 'replicas');
  const hide = join(root.path, 'HIDE');
  const runs = join(root.path, 'runs.log');
  const restic = join(root.path, 'restic');
  let a: RunningPlugin;
  let b: RunningPlugin;
  let key: TestKey;

  beforeAll(async () => {
    writeFileSync(
      restic,
      `#!${process.execPath}
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const restore = args.includes('restore');
const unlocked = args.includes('--no-lock');
const hidden = [];
if (restore && unlocked && fs.existsSync(${JSON.stringify(hide)})) {
  const data = path.join(process.env.RESTIC_REPOSITORY, 'data');
  for (const dir of fs.readdirSync(data)) {
    for (const pack of fs.readdirSync(path.join(data, dir))) {
      const file = path.join(data, dir, pack);
      fs.renameSync(file, file + '.hidden');
      hidden.push(file);
    }
  }
}
const run = spawnSync('restic', args, { stdio: 'inherit' });
for (const file of hidden) fs.renameSync(file + '.hidden', file);
if (restore) fs.appendFileSync(${JSON.stringify(runs)}, (unlocked ? 'unlocked' : 'locked') + ' ' + run.status + '\\n');
process.exit(run.status ?? 1);
`,
    );
    chmodSync(restic, 0o755);
    ({ a, b, key } = await pluginPair(root.path, replicas, { RESTIC_BINARY: restic }));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    root.remove();
  });

  const restoreRuns = () => readFileSync(runs, 'utf8').trim().split('\n');

  it('takes no lock; when packs went from under it, restic fails it and it runs again under the lock, with all the data', async () => {
    const name = randomName();
    const created = await a.control.createVolume({ name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: randomUUID() });
    expect(created.status).toBe(200);
    const dataA = created.body.volume.mountpoint as string;
    writeFileSync(join(dataA, 'big.bin'), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(dataA, 'small.txt'), 'small');
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    const staged = join(b.config.dataDir, 'staging', name, 'data');

    writeFileSync(runs, '');
    expect((await b.control.request('POST', `/volumes/${name}/stage`, { fingerprint: key.fingerprint })).status).toBe(200);
    expect(restoreRuns()).toEqual(['unlocked 0']);
    expect(treeDigest(staged)).toEqual(treeDigest(dataA));
    expect((await b.control.request('DELETE', `/volumes/${name}/stage`)).status).toBe(200);

    // restic reports the missing packs and exits 1 (it does not leave half a file as if done).
    writeFileSync(hide, '');
    writeFileSync(runs, '');
    try {
      const again = await b.control.request('POST', `/volumes/${name}/stage`, { fingerprint: key.fingerprint });
      expect(again.status).toBe(200);
    } finally {
      rmSync(hide);
    }
    expect(restoreRuns()).toEqual(['unlocked 1', 'locked 0']);
    expect(treeDigest(staged)).toEqual(treeDigest(dataA));
  });
});
