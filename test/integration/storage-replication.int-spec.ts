import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { ErrorCode, replicaPassword } from '@mosaic/protocol';
import { OpenPgpKeyAdapter } from '../../apps/storage-plugin/src/keys/openpgp-key.adapter';
import { SNAPSHOT_TAG, writerTag } from '../../apps/storage-plugin/src/replication/writer-rule';
import {
  RunningPlugin,
  TestKey,
  anyFileContains,
  dockerCall,
  generateKey,
  pluginConfig,
  pluginRoot,
  randomName,
  startPlugin,
  startPluginOnTinyDisk,
  treeDigest,
} from '../support/storage-plugin';

jest.setTimeout(60_000);

/** Real restic on a local replica directory, the plugin in-process on real unix sockets. */
describe('storage plugin: replication to a local replica', () => {
  const root = pluginRoot('repl');
  const replicas = join(root.path, 'replicas');
  const deviceA = randomUUID();
  const deviceB = randomUUID();
  let a: RunningPlugin;
  let key: TestKey;

  beforeAll(async () => {
    a = await startPlugin(pluginConfig(join(root.path, 'a'), { REPLICA_URL: replicas }));
    key = await generateKey();
  });

  afterAll(async () => {
    await a?.close();
    root.remove();
  });

  function volumeRequest(name: string, writer = deviceA, extra: Record<string, unknown> = {}) {
    return { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer, ...extra };
  }

  it('refuses a key whose fingerprint is not the one in the path, and a protected key', async () => {
    const other = await generateKey();
    const mismatch = await a.control.registerKey(key, other.fingerprint);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ code: ErrorCode.INVALID_PARAMS, message: expect.stringContaining(key.fingerprint) });

    const privateKey = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
    const locked = await openpgp.encryptKey({ privateKey, passphrase: 'a passphrase' });
    const protectedAnswer = await a.control.registerKey({ fingerprint: key.fingerprint, privateKey: locked.armor() });
    expect(protectedAnswer.status).toBe(400);
    expect(protectedAnswer.body.message).toMatch(/protected/);

    expect((await a.control.request('GET', '/keys')).body).toEqual([]);
  });

  it('needs the key registered before a volume is created', async () => {
    const name = randomName();
    const answer = await a.control.createVolume(volumeRequest(name));
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe(ErrorCode.KEYS_MISSING);
    expect(existsSync(join(a.config.dataDir, 'volumes', name))).toBe(false);
  });

  it('replicates a volume, keeps only ciphertext in the replica, and restores it byte for byte', async () => {
    expect((await a.control.registerKey(key)).status).toBe(200);
    const keys = await a.control.request('GET', '/keys');
    expect(keys.body).toEqual([key.fingerprint]);
    expect(keys.text).not.toContain('PRIVATE KEY');

    const name = randomName();
    const created = await a.control.createVolume(volumeRequest(name));
    expect(created.status).toBe(200);
    expect(created.lines).toHaveLength(1); // no replica yet: nothing to restore
    const volume = created.body.volume;
    expect(volume).toMatchObject({
      name,
      mounts: 0,
      lastReplicatedAt: null,
      replication: { state: 'idle' },
      writer: deviceA,
      isWriter: true,
    });
    expect(volume.mountpoint).toBe(join(a.config.dataDir, 'volumes', name, 'data'));

    const marker = `mosaic-marker-${randomBytes(16).toString('hex')}`;
    mkdirSync(join(volume.mountpoint, 'nested/deeper'), { recursive: true });
    writeFileSync(join(volume.mountpoint, 'marker.txt'), `${marker}\n`.repeat(1000));
    writeFileSync(join(volume.mountpoint, 'nested/deeper/random.bin'), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(volume.mountpoint, 'nested/empty'), '');
    const before = treeDigest(volume.mountpoint);

    const replicated = await a.control.request('POST', `/volumes/${name}/replicate`);
    expect(replicated.status).toBe(200);
    expect(replicated.body).toEqual({ name, lastReplicatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    const listed = (await a.control.request('GET', '/volumes')).body.find((v: any) => v.name === name);
    expect(listed).toMatchObject({ lastReplicatedAt: replicated.body.lastReplicatedAt, replication: { state: 'idle' }, isWriter: true });
    expect(listed.sizeBytes).toBeGreaterThan(3 * 1024 * 1024);

    // The replica store sees ciphertext only; nothing secret sits beside the replica or in the state.
    expect(anyFileContains(join(replicas, name), marker)).toBeNull();
    const state = readFileSync(join(a.config.dataDir, 'state.json'), 'utf8');
    expect(state).toContain(name);
    expect(state).not.toContain('PRIVATE KEY');

    const removed = await a.control.request('DELETE', `/volumes/${name}`);
    expect(removed.status).toBe(200);
    expect(existsSync(volume.mountpoint)).toBe(false);
    expect(existsSync(join(replicas, name, 'config'))).toBe(true);

    const restored = await a.control.createVolume(volumeRequest(name, deviceA, { instance: volume.instance }));
    expect(restored.status).toBe(200);
    const progress = restored.lines.filter((l) => l.stage === 'restore').map((l) => l.percent);
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(100);
    expect([...progress].sort((x, y) => x - y)).toEqual(progress);
    // After a restore, lastReplicatedAt is the snapshot's own time: restic takes it just after the request's.
    expect(restored.body.volume).toMatchObject({ name, isWriter: true });
    const restoredAt = Date.parse(restored.body.volume.lastReplicatedAt);
    expect(restoredAt).toBeGreaterThanOrEqual(Date.parse(replicated.body.lastReplicatedAt));
    expect(restoredAt - Date.parse(replicated.body.lastReplicatedAt)).toBeLessThan(10_000);
    expect(treeDigest(volume.mountpoint)).toEqual(before);

    // Creating it again is idempotent: the same volume, no second restore.
    const again = await a.control.createVolume(volumeRequest(name, deviceA, { instance: volume.instance }));
    expect(again.lines).toEqual([{ volume: expect.objectContaining({ name }) }]);
  });

  it('moves the writer on failover: the old device is refused with NOT_WRITER from then on', async () => {
    const name = randomName();
    const instance = randomUUID();
    await a.control.registerKey(key);
    expect((await a.control.createVolume(volumeRequest(name, deviceA, { instance }))).status).toBe(200);
    const dataA = join(a.config.dataDir, 'volumes', name, 'data');
    writeFileSync(join(dataA, 'written-by-a'), 'first\n');
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);

    const b = await startPlugin(pluginConfig(join(root.path, 'b'), { REPLICA_URL: replicas }));
    try {
      expect((await b.control.registerKey(key)).status).toBe(200);
      const taken = await b.control.createVolume(volumeRequest(name, deviceB, { instance, failover: true }));
      expect(taken.status).toBe(200);
      expect(taken.body.volume).toMatchObject({ writer: deviceB, isWriter: true });
      expect(readFileSync(join(taken.body.volume.mountpoint, 'written-by-a'), 'utf8')).toBe('first\n');
      expect(existsSync(join(taken.body.volume.mountpoint, 'CLAIM'))).toBe(false);

      const refused = await a.control.request('POST', `/volumes/${name}/replicate`);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: ErrorCode.NOT_WRITER, message: expect.stringContaining(deviceB) });
      expect(await a.control.volume(name)).toMatchObject({ isWriter: false, replication: { state: 'error', code: ErrorCode.NOT_WRITER } });

      writeFileSync(join(taken.body.volume.mountpoint, 'written-by-b'), 'second\n');
      expect((await b.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
      // The old writer may not delete the replica either.
      expect((await a.control.request('DELETE', `/volumes/${name}?replica=true`)).body.code).toBe(ErrorCode.NOT_WRITER);
      expect(existsSync(join(replicas, name, 'config'))).toBe(true);
      // Its writer may: the local repository directory goes entirely.
      expect((await b.control.request('DELETE', `/volumes/${name}?replica=true`)).status).toBe(200);
      expect(existsSync(join(replicas, name))).toBe(false);
    } finally {
      await b.close();
    }
  });

  it('refuses a volume name that exists for another key or instance, and a mounted volume removal', async () => {
    const name = randomName();
    const request = volumeRequest(name);
    expect((await a.control.createVolume(request)).status).toBe(200);
    const conflict = await a.control.createVolume({ ...request, instance: randomUUID() });
    expect(conflict.status).toBe(400);
    expect(conflict.body).toMatchObject({ code: ErrorCode.INVALID_PARAMS, message: expect.stringContaining('instance') });

    const mounted = await dockerCall(a.pluginSocket, 'VolumeDriver.Mount', { Name: name, ID: 'c1' });
    expect(mounted.body).toEqual({ Mountpoint: join(a.config.dataDir, 'volumes', name, 'data'), Err: '' });
    const busy = await a.control.request('DELETE', `/volumes/${name}`);
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe(ErrorCode.BUSY);
    expect(existsSync(mounted.body.Mountpoint)).toBe(true);
    expect((await dockerCall(a.pluginSocket, 'VolumeDriver.Unmount', { Name: name, ID: 'c1' })).body).toEqual({ Err: '' });
    // The last unmount replicates in the background; removal waits for it rather than racing it.
    expect((await a.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    expect(existsSync(mounted.body.Mountpoint)).toBe(false);
  });

  it('replicates an empty volume and restores it empty, with the folder mode it had', async () => {
    await a.control.registerKey(key);
    const name = randomName();
    const request = volumeRequest(name);
    const created = await a.control.createVolume(request);
    chmodSync(created.body.volume.mountpoint, 0o770);
    expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect((await a.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await a.control.createVolume(request);
    expect(restored.body.volume).toMatchObject({ name, sizeBytes: 0 });
    expect(readdirSync(restored.body.volume.mountpoint)).toEqual([]);
    expect(statSync(restored.body.volume.mountpoint).mode & 0o777).toBe(0o770);
  });

  describe('a restore that does not fit on the disk', () => {
    let c: RunningPlugin;
    let tmpfs: string;
    let close: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ plugin: c, disk: tmpfs, close } = await startPluginOnTinyDisk(pluginConfig(join(root.path, 'c'), { REPLICA_URL: replicas }), 'volumes'));
      await c.control.registerKey(key);
    });

    afterAll(() => close?.());

    async function replicaOf(fill: (dir: string) => void): Promise<{ name: string; instance: string }> {
      const name = randomName();
      const instance = randomUUID();
      await a.control.registerKey(key);
      const created = await a.control.createVolume(volumeRequest(name, deviceA, { instance }));
      fill(created.body.volume.mountpoint);
      expect((await a.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
      return { name, instance };
    }

    it('fails with RESTORE_FAILED when the disk fills up during the restore, and keeps nothing', async () => {
      // 600 files of 100 bytes: 60 kB by restic's count, but a page each on tmpfs, so it runs out midway.
      const { name, instance } = await replicaOf((dir) => {
        for (let i = 0; i < 600; i++) writeFileSync(join(dir, `f${i}`), 'x'.repeat(100));
      });
      const answer = await c.control.createVolume(volumeRequest(name, deviceA, { instance }));
      expect(answer.status).toBe(200);
      expect(answer.lines[0]).toEqual({ stage: 'restore', percent: 0 });
      expect(answer.body).toEqual({ error: { code: ErrorCode.RESTORE_FAILED, message: expect.stringMatching(/disk filled up/) } });
      expect(readdirSync(tmpfs)).toEqual([]);
      expect((await c.control.request('GET', '/volumes')).body).toEqual([]);
    });

    it('refuses up front a restore larger than the free space', async () => {
      const { name, instance } = await replicaOf((dir) => writeFileSync(join(dir, 'big.bin'), randomBytes(2 * 1024 * 1024)));
      const answer = await c.control.createVolume(volumeRequest(name, deviceA, { instance }));
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ code: ErrorCode.RESTORE_FAILED, message: expect.stringMatching(/needs \d+ bytes/) });
      expect(readdirSync(tmpfs)).toEqual([]);
    });
  });

  describe('a hostile replica: whoever holds the key wrote a snapshot whose volume root is not a folder', () => {
    /** A snapshot made with restic itself, as the plugin makes them (`data` from its parent, Mosaic's tags), of what `makeRoot` puts there. */
    async function hostileSnapshot(name: string, makeRoot: (data: string) => void): Promise<void> {
      const scratch = join(root.path, `hostile-${randomBytes(4).toString('hex')}`);
      mkdirSync(scratch);
      makeRoot(join(scratch, 'data'));
      const { secretPacket } = await new OpenPgpKeyAdapter().read(key.privateKey);
      execFileSync('restic', ['backup', '--quiet', '--host', 'mosaic', '--tag', SNAPSHOT_TAG, '--tag', writerTag(deviceA), 'data'], {
        cwd: scratch,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RESTIC_REPOSITORY: join(replicas, name), RESTIC_PASSWORD: replicaPassword(secretPacket, name) },
      });
    }

    const outside = join(root.path, 'host-folder');

    it.each([
      ['a symlink to a host folder', (data: string) => symlinkSync(outside, data)],
      ['a dangling symlink', (data: string) => symlinkSync(join(root.path, 'not-yet'), data)],
      ['a file', (data: string) => writeFileSync(data, 'not a folder')],
    ])('refuses a root that is %s with RESTORE_FAILED, and nothing can be mounted', async (_label, make) => {
      mkdirSync(outside, { recursive: true });
      await a.control.registerKey(key);
      const name = randomName();
      const request = volumeRequest(name);
      expect((await a.control.createVolume(request)).status).toBe(200);
      expect((await a.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
      await hostileSnapshot(name, make);

      const answer = await a.control.createVolume(request);
      expect(answer.body).toEqual({ error: { code: ErrorCode.RESTORE_FAILED, message: expect.stringMatching(/not a folder/) } });
      expect((await a.control.request('GET', '/volumes')).body.filter((v: any) => v.name === name)).toEqual([]);
      const mountpoint = join(a.config.dataDir, 'volumes', name, 'data');
      expect(() => lstatSync(mountpoint)).toThrow(/ENOENT/);
      const mounted = await dockerCall(a.pluginSocket, 'VolumeDriver.Mount', { Name: name, ID: 'c1' });
      expect(mounted.body.Err).not.toBe('');
      expect(mounted.body.Mountpoint).toBeUndefined();
      expect(readdirSync(outside)).toEqual([]);
    });
  });
});
