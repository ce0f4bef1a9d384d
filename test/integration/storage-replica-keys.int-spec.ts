import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replicaPassword } from '@mosaic/protocol';
import { OpenPgpKeyAdapter } from '../../apps/storage-plugin/src/keys/openpgp-key.adapter';
import { eventually } from '../support/eventually';
import { RestServer } from '../support/rest-server';
import { RunningPlugin, TestKey, generateKey, pluginConfig, pluginRoot, randomName, startPlugin, treeDigest } from '../support/storage-plugin';

jest.setTimeout(120_000);

interface KeyFile {
  id: string;
  N: number;
  r: number;
  p: number;
}

/** The key files of a repository folder, with their scrypt parameters. */
function keyFiles(repoDir: string): KeyFile[] {
  return readdirSync(join(repoDir, 'keys'))
    .filter((n) => /^[0-9a-f]{64}$/.test(n))
    .map((id) => {
      const { N, r, p } = JSON.parse(readFileSync(join(repoDir, 'keys', id), 'utf8')) as KeyFile;
      return { id, N, r, p };
    })
    .sort((a, b) => a.N - b.N);
}

const CHEAP = { N: 4096, r: 8, p: 1 };

/**
 * Real restic, as a user would run it against the replica: no key hint, the given password. Not
 * spawnSync: the plugin runs in this process, and its sockets must be served meanwhile.
 */
function restic(repo: string, password: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: join(root.path, 'restic-cache') };
  return new Promise((resolve) => {
    execFile('restic', args, { encoding: 'utf8', timeout: 60_000, env }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

async function openingKey(repo: string, password: string): Promise<string> {
  const listed = await restic(repo, password, ['key', 'list', '--no-lock', '--json']);
  expect(listed.stderr).toBe('');
  return (JSON.parse(listed.stdout) as Array<{ id: string; current: boolean }>).find((k) => k.current)!.id;
}

const root = pluginRoot('keys');

describe('storage plugin: replicas open with a cheap restic key', () => {
  const device = randomUUID();
  let key: TestKey;
  let password: (name: string) => string;

  beforeAll(async () => {
    key = await generateKey();
    const { secretPacket } = await new OpenPgpKeyAdapter().read(key.privateKey);
    password = (name) => replicaPassword(secretPacket, name);
  });
  afterAll(() => root.remove());

  async function startWith(folder: string, overrides: Record<string, string> = {}): Promise<RunningPlugin> {
    const plugin = await startPlugin(pluginConfig(join(root.path, folder), overrides));
    expect((await plugin.control.registerKey(key)).status).toBe(200);
    return plugin;
  }

  /** Creates the volume, writes a file into it and replicates it; the file's content. */
  async function writeAndReplicate(plugin: RunningPlugin, name: string): Promise<{ request: Record<string, unknown>; before: Record<string, string> }> {
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    expect(created.body.volume).toMatchObject({ name, isWriter: true });
    writeFileSync(join(created.body.volume.mountpoint, 'notes.txt'), randomBytes(16).toString('hex'));
    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    return { request, before: treeDigest(created.body.volume.mountpoint) };
  }

  /** Deletes the local volume and creates it again from its replica: what it holds then. */
  async function restored(plugin: RunningPlugin, request: Record<string, unknown>): Promise<Record<string, string>> {
    expect((await plugin.control.request('DELETE', `/volumes/${String(request.name)}`)).status).toBe(200);
    const again = await plugin.control.createVolume(request);
    expect(again.body.volume).toMatchObject({ isWriter: true });
    return treeDigest(again.body.volume.mountpoint);
  }

  describe('on a local folder', () => {
    let plugin: RunningPlugin;
    const replicas = join(root.path, 'local', 'replicas');

    beforeAll(async () => {
      plugin = await startWith('local');
    });
    afterAll(() => plugin?.close());

    it('a new replica holds one key, a cheap one, that restic opens; a wrong password still fails', async () => {
      const name = randomName();
      const { request, before } = await writeAndReplicate(plugin, name);
      const repo = join(replicas, name);
      const keys = await eventually('the replica has only the cheap key', async () => keyFiles(repo), (k) => k.length === 1 && k[0].N === CHEAP.N);
      expect(keys[0]).toMatchObject(CHEAP);

      expect(await openingKey(repo, password(name))).toBe(keys[0].id);
      expect((await restic(repo, password(name), ['cat', 'config', '--no-lock'])).status).toBe(0);
      const wrong = await restic(repo, randomBytes(32).toString('hex'), ['cat', 'config', '--no-lock']);
      expect(wrong.status).toBe(12);
      expect(wrong.stderr).toMatch(/wrong password or no key found/);
      // Another volume's password (same device key, another name) does not open it either.
      expect((await restic(repo, password(`${name}-other`), ['cat', 'config', '--no-lock'])).status).toBe(12);

      expect(await restored(plugin, request)).toEqual(before);
    });

    it("a replica made before (restic init's calibrated key) still opens, gets the cheap key at its next snapshot, and a key of another password stays", async () => {
      const name = randomName();
      const repo = join(replicas, name);
      mkdirSync(replicas, { recursive: true });
      expect((await restic(repo, password(name), ['init', '--quiet'])).status).toBe(0);
      const passwordFile = join(root.path, 'human-password');
      writeFileSync(passwordFile, 'a human password\n');
      expect((await restic(repo, password(name), ['key', 'add', '--new-password-file', passwordFile, '--quiet'])).status).toBe(0);
      const old = keyFiles(repo);
      expect(old).toHaveLength(2);
      for (const k of old) expect(k.N * k.r * k.p).toBeGreaterThan(CHEAP.N * CHEAP.r * CHEAP.p);
      const ours = await openingKey(repo, password(name));
      const humans = old.find((k) => k.id !== ours)!;

      const { request, before } = await writeAndReplicate(plugin, name);
      const keys = await eventually(
        "the plugin's calibrated key replaced by a cheap one",
        async () => keyFiles(repo),
        (k) => k.length === 2 && k.some((f) => f.N === CHEAP.N),
      );
      expect(keys.map((k) => k.id)).toContain(humans.id);
      const cheap = keys.find((k) => k.N === CHEAP.N)!;
      expect(await openingKey(repo, password(name))).toBe(cheap.id);
      expect(await openingKey(repo, 'a human password')).toBe(humans.id);
      expect(await restored(plugin, request)).toEqual(before);
    });
  });

  describe('on a REST server (rclone serve restic)', () => {
    /**
     * A plugin replicating to a fresh rclone REST server (with `args`), given a volume it created and
     * replicated: its folder in the server's store and its restic URL.
     */
    async function onRestServer(
      folder: string,
      args: string[],
      body: (plugin: RunningPlugin, volume: { name: string; repo: string; url: string; request: Record<string, unknown>; before: Record<string, string> }) => Promise<void>,
    ): Promise<void> {
      const store = join(root.path, `${folder}-store`);
      mkdirSync(store, { recursive: true });
      const server = new RestServer(store, args);
      await server.start();
      const plugin = await startWith(folder, { REPLICA_URL: server.url.replace(/\/$/, '') });
      try {
        const name = randomName();
        const written = await writeAndReplicate(plugin, name);
        await body(plugin, { name, repo: join(store, name), url: `${server.url}${name}`, ...written });
      } finally {
        await plugin.close();
        await server.stop();
      }
    }

    it("stores the cheap key and removes restic's through the server", async () => {
      await onRestServer('rest', [], async (plugin, { name, repo, url, request, before }) => {
        const keys = await eventually('the replica has only the cheap key', async () => keyFiles(repo), (k) => k.length === 1 && k[0].N === CHEAP.N);
        expect(await openingKey(url, password(name))).toBe(keys[0].id);
        expect(await restored(plugin, request)).toEqual(before);
      });
    });

    it("keeps working where the server refuses removals (--append-only): restic's key stays beside the cheap one", async () => {
      await onRestServer('append-only', ['--append-only'], async (plugin, { name, repo, url, request, before }) => {
        const keys = await eventually('a cheap key beside restic’s', async () => keyFiles(repo), (k) => k.length === 2 && k[0].N === CHEAP.N);
        // restic opens with the cheap key when told to try it first, as the plugin does from now on.
        const hinted = await restic(url, password(name), ['key', 'list', '--no-lock', '--json', '--key-hint', keys[0].id]);
        expect((JSON.parse(hinted.stdout) as Array<{ id: string; current: boolean }>).find((k) => k.current)?.id).toBe(keys[0].id);
        expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
        expect(await restored(plugin, request)).toEqual(before);
      });
    });
  });
});
