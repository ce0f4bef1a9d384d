import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import {
  ControlClient,
  PluginProcess,
  TestKey,
  dockerCall,
  generateKey,
  pluginEnv,
  pluginRoot,
  randomName,
  treeDigest,
} from '../support/storage-plugin';

jest.setTimeout(120_000);

/** Writes `bytes` of random data, in chunks, to a file. */
async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let done = 0; done < bytes; done += 1024 * 1024) {
    if (!out.write(randomBytes(Math.min(1024 * 1024, bytes - done)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The pids of `restic <command>` processes whose parent is `parent`, from /proc. */
function resticChildren(parent: number, command: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (ppid === parent && argv[0].endsWith('restic') && argv.includes(command)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Waits for a process to appear; /proc has no event to wait on, so it is looked at every 10 ms. */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The built plugin as a process: `node dist/apps/storage-plugin/main.js`. */
describe('storage plugin: the built process, killed and restarted', () => {
  const root = pluginRoot('restart');
  const env = pluginEnv(root.path, { REPLICATION_RETRY_BASE_S: '3600', REPLICATION_RETRY_MAX_S: '3600', LOG_LEVEL: 'log' });
  const control = new ControlClient(env.STORAGE_PLUGIN_SOCKET);
  const pluginSocket = join(env.DOCKER_PLUGIN_DIR, 'mosaic.sock');
  const processes: PluginProcess[] = [];
  let key: TestKey;

  async function start(extra: Record<string, string> = {}): Promise<PluginProcess> {
    const plugin = new PluginProcess({ ...env, ...extra });
    processes.push(plugin);
    await plugin.start();
    return plugin;
  }

  beforeAll(async () => {
    key = await generateKey();
  });

  afterAll(async () => {
    for (const plugin of processes) await plugin.stop('SIGKILL').catch(() => undefined);
    root.remove();
  });

  it('stops at once with status 78 and one line per bad setting', async () => {
    const plugin = new PluginProcess({ ...env, REPLICA_URL: 'ftp://nowhere', RETENTION_KEEP_LAST: '0' });
    await expect(plugin.start()).rejects.toThrow(/exited \(78\)/);
    const output = plugin.output.join('');
    expect(output).toMatch(/^config: REPLICA_URL .*$/m);
    expect(output).toMatch(/^config: RETENTION_KEEP_LAST .*$/m);
    expect(existsSync(env.STORAGE_PLUGIN_SOCKET)).toBe(false);
  });

  it('keeps its state through a SIGKILL during a replication; keys must be registered again; the next replication succeeds', async () => {
    const first = await start();
    expect((await control.registerKey(key)).status).toBe(200);
    const name = randomName();
    const device = randomUUID();
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: device };
    const created = await control.createVolume(request);
    expect(created.status).toBe(200);
    const mountpoint = created.body.volume.mountpoint;
    await randomFile(join(mountpoint, 'big.bin'), 96 * 1024 * 1024);
    expect((await dockerCall(pluginSocket, 'VolumeDriver.Mount', { Name: name, ID: 'container-1' })).body.Err).toBe('');

    const replication = control.request('POST', `/volumes/${name}/replicate`).catch((err: Error) => err);
    await waitFor('restic backup', () => resticChildren(first.pid, 'backup')[0]);
    await first.killGroup('SIGKILL');
    const outcome = await replication; // the connection died with the plugin: no answer
    expect(outcome).not.toHaveProperty('status');
    expect((outcome as Error).message).toMatch(/socket hang up|ECONNRESET/);

    const state = JSON.parse(readFileSync(join(env.STORAGE_DATA_DIR, 'state.json'), 'utf8'));
    expect(state.volumes).toEqual([expect.objectContaining({ name, mounts: { 'container-1': 1 }, replication: { state: 'replicating' } })]);
    expect(JSON.stringify(state)).not.toContain('PRIVATE KEY');

    const second = await start();
    expect((await control.request('GET', '/keys')).body).toEqual([]);
    expect(await control.volume(name)).toMatchObject({
      mountpoint,
      mounts: 1,
      lastReplicatedAt: null,
      replication: { state: 'error', error: expect.stringMatching(/interrupted/) },
      writer: device,
      isWriter: true,
    });

    const keyless = await control.request('POST', `/volumes/${name}/replicate`);
    expect(keyless.status).toBe(409);
    expect(keyless.body.code).toBe(ErrorCode.KEYS_MISSING);
    expect((await control.volume(name)).replication).toMatchObject({ state: 'error', error: expect.stringMatching(/not registered/) });

    expect((await control.registerKey(key)).status).toBe(200);
    const replicated = await control.request('POST', `/volumes/${name}/replicate`);
    expect(replicated.status).toBe(200);
    expect(await control.volume(name)).toMatchObject({
      lastReplicatedAt: replicated.body.lastReplicatedAt,
      replication: { state: 'idle' },
    });

    // Nothing lost: the replica restores to the same bytes.
    const before = treeDigest(mountpoint);
    expect((await dockerCall(pluginSocket, 'VolumeDriver.Unmount', { Name: name, ID: 'container-1' })).body.Err).toBe('');
    expect((await control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await control.createVolume(request);
    expect(restored.body.volume).toMatchObject({ name });
    expect(treeDigest(mountpoint)).toEqual(before);

    // SIGTERM: a clean stop that takes both sockets away.
    const exit = await second.stop('SIGTERM');
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(existsSync(env.STORAGE_PLUGIN_SOCKET)).toBe(false);
    expect(existsSync(pluginSocket)).toBe(false);
  });

  it('removes a stale socket left by a killed plugin, and refuses to start beside a live one', async () => {
    const first = await start();
    await first.killGroup('SIGKILL');
    expect(existsSync(env.STORAGE_PLUGIN_SOCKET)).toBe(true); // left behind by the kill
    const second = await start();
    expect((await control.request('GET', '/health')).body).toMatchObject({
      ok: true,
      driver: 'mosaic',
      volumes: expect.any(Number),
      keys: 0,
    });

    const third = new PluginProcess(env);
    await expect(third.start()).rejects.toThrow(/served by another process/);
    expect((await control.request('GET', '/health')).status).toBe(200);
    await second.stop('SIGTERM');
  });
});
