import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import { RunningPlugin, TestKey, pluginConfig, pluginPair, pluginRoot, randomName, startPluginOnTinyDisk, treeDigest } from '../support/storage-plugin';

jest.setTimeout(90_000);

/** The NDJSON answer of a long call, split into its lines (the last one is the outcome). */
function linesOf(text: string): any[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * Staged moves on real restic over one local replica, two plugins in-process on real unix
 * sockets: B restores A's replica ahead while A still writes it, then takes over with only what
 * changed (docs/storage-plugin-api.md, `POST /volumes/{name}/stage`).
 */
describe('storage plugin: a move staged ahead on the new device', () => {
  const root = pluginRoot('stage');
  const replicas = join(root.path, 'replicas');
  const deviceA = randomUUID();
  const deviceB = randomUUID();
  let a: RunningPlugin;
  let b: RunningPlugin;
  let key: TestKey;

  beforeAll(async () => {
    ({ a, b, key } = await pluginPair(root.path, replicas));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    root.remove();
  });

  /** A volume on A with a replica of what `fill` wrote. */
  async function replicaOnA(fill: (dir: string) => void): Promise<{ name: string; instance: string; dataA: string }> {
    const name = randomName();
    const instance = randomUUID();
    const created = await a.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: deviceA });
    expect(created.status).toBe(200);
    const dataA = created.body.volume.mountpoint as string;
    fill(dataA);
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    return { name, instance, dataA };
  }

  async function stageOnB(name: string, fingerprint = key.fingerprint): Promise<{ status: number; lines: any[] }> {
    const answer = await b.control.request('POST', `/volumes/${name}/stage`, { fingerprint });
    return { status: answer.status, lines: String(answer.headers['content-type']).startsWith('application/x-ndjson') ? linesOf(answer.text) : [answer.body] };
  }

  it('restores ahead without claiming, keeps up with later snapshots, and hands over only what changed', async () => {
    const { name, instance, dataA } = await replicaOnA((dir) => {
      for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}.bin`), randomBytes(8 * 1024));
    });

    const staged = await stageOnB(name);
    expect(staged.status).toBe(200);
    expect(staged.lines[0]).toEqual({ stage: 'stage', percent: 0 });
    const outcome = staged.lines[staged.lines.length - 1].staged;
    expect(outcome).toMatchObject({ name, snapshot: expect.stringMatching(/^[0-9a-f]{64}$/), incremental: false });
    expect(outcome.bytes).toBeGreaterThanOrEqual(40 * 8 * 1024);
    // Staging is not a claim: A still writes the replica, and B holds no volume yet.
    writeFileSync(join(dataA, 'f0.bin'), 'changed after the stage');
    unlinkSync(join(dataA, 'f1.bin'));
    writeFileSync(join(dataA, 'new.txt'), 'written after the stage');
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect((await b.control.request('GET', '/volumes')).body.filter((v: any) => v.name === name)).toEqual([]);

    // Staging again brings the stage up to date.
    const again = await stageOnB(name);
    expect(again.lines[again.lines.length - 1].staged).toMatchObject({ incremental: true });
    expect(again.lines[again.lines.length - 1].staged.snapshot).not.toBe(outcome.snapshot);

    // A file unchanged since the stage is the staged file itself after the hand-over (same inode): not restored again.
    const unchangedInode = lstatSync(join(b.config.dataDir, 'staging', name, 'data', 'f5.bin')).ino;
    writeFileSync(join(dataA, 'last.txt'), 'the final replication');
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    const taken = await b.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: deviceB, failover: true });
    expect(taken.status).toBe(200);
    expect(taken.body.volume).toMatchObject({ writer: deviceB, isWriter: true });
    expect(treeDigest(taken.body.volume.mountpoint)).toEqual(treeDigest(dataA));
    expect(lstatSync(join(taken.body.volume.mountpoint, 'f5.bin')).ino).toBe(unchangedInode);
    expect(readdirSync(join(b.config.dataDir, 'staging'))).toEqual([]);
    // The claim fenced A off, as a move without a stage does.
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).body).toMatchObject({ code: ErrorCode.NOT_WRITER });
  });

  it('does not write through a symlink the staged data held when the final snapshot has a folder there', async () => {
    const outside = join(root.path, 'outside');
    mkdirSync(outside, { recursive: true });
    const { name, instance, dataA } = await replicaOnA((dir) => symlinkSync(outside, join(dir, 'd')));
    expect((await stageOnB(name)).status).toBe(200);
    // The app replaces its link by a folder of the same name with a file in it.
    unlinkSync(join(dataA, 'd'));
    mkdirSync(join(dataA, 'd'));
    writeFileSync(join(dataA, 'd', 'passwd'), 'hostile');
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);

    const taken = await b.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: deviceB, failover: true });
    expect(taken.status).toBe(200);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(taken.body.volume.mountpoint, 'd')).isDirectory()).toBe(true);
    expect(readFileSync(join(taken.body.volume.mountpoint, 'd', 'passwd'), 'utf8')).toBe('hostile');
  });

  it('whatever else lies in the staged folder is gone after the hand-over (restic --delete)', async () => {
    const { name, instance, dataA } = await replicaOnA((dir) => writeFileSync(join(dir, 'one.txt'), 'one'));
    expect((await stageOnB(name)).status).toBe(200);
    writeFileSync(join(b.config.dataDir, 'staging', name, 'data', 'planted.txt'), 'in no snapshot');
    const taken = await b.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: deviceB, failover: true });
    expect(taken.status).toBe(200);
    expect(treeDigest(taken.body.volume.mountpoint)).toEqual(treeDigest(dataA));
    expect(existsSync(join(b.config.dataDir, 'staging', name))).toBe(false);
  });

  it('answers a replica without data, an unregistered key and a bad body clearly; a stage can be discarded', async () => {
    const empty = await stageOnB(randomName());
    expect(empty.status).toBe(200);
    expect(empty.lines[empty.lines.length - 1].staged).toMatchObject({ snapshot: null, bytes: 0, incremental: false });

    const { name } = await replicaOnA((dir) => writeFileSync(join(dir, 'x'), 'x'));
    const unknown = await stageOnB(name, 'e'.repeat(40));
    expect(unknown.status).toBe(409);
    expect(unknown.lines[0]).toMatchObject({ code: ErrorCode.KEYS_MISSING });
    const bad = await b.control.request('POST', `/volumes/${name}/stage`, { fingerprint: key.fingerprint, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: ErrorCode.INVALID_PARAMS });

    expect((await stageOnB(name)).status).toBe(200);
    expect(existsSync(join(b.config.dataDir, 'staging', name, 'data', 'x'))).toBe(true);
    expect((await b.control.request('DELETE', `/volumes/${name}/stage`)).body).toEqual({ name, discarded: true });
    expect(existsSync(join(b.config.dataDir, 'staging', name))).toBe(false);
    expect((await b.control.request('DELETE', `/volumes/${name}/stage`)).body).toEqual({ name, discarded: false });
  });

  describe('a stage interrupted by a full disk', () => {
    let c: RunningPlugin;
    let tmpfs: string;
    let close: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ plugin: c, disk: tmpfs, close } = await startPluginOnTinyDisk(pluginConfig(join(root.path, 'c'), { REPLICA_URL: replicas }), 'staging'));
      await c.control.registerKey(key);
    });

    afterAll(() => close?.());

    it('fails with RESTORE_FAILED, keeps nothing, and a later create still restores in full', async () => {
      // 600 files of 100 bytes: 60 kB by restic's count, but a page each on tmpfs, so it runs out midway.
      const { name, instance, dataA } = await replicaOnA((dir) => {
        for (let i = 0; i < 600; i++) writeFileSync(join(dir, `f${i}`), 'x'.repeat(100));
      });
      const answer = await c.control.request('POST', `/volumes/${name}/stage`, { fingerprint: key.fingerprint });
      const lines = linesOf(answer.text);
      // Past the space check (60 kB fit): restic was restoring when the disk filled up.
      expect(lines[0]).toEqual({ stage: 'stage', percent: 0 });
      expect(lines[lines.length - 1]).toEqual({ error: { code: ErrorCode.RESTORE_FAILED, message: expect.stringMatching(/disk filled up while staging/) } });
      expect(readdirSync(tmpfs)).toEqual([]);
      // The volumes are on another filesystem: the move goes on without the stage.
      const taken = await c.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: randomUUID(), failover: true });
      expect(taken.status).toBe(200);
      expect(treeDigest(taken.body.volume.mountpoint)).toEqual(treeDigest(dataA));
      rmSync(taken.body.volume.mountpoint, { recursive: true, force: true });
    });
  });
});
