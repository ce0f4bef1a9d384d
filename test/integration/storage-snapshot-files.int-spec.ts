import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CryptoKey, masterKeyOf, openKey, parseKeyFile } from '../../apps/storage-plugin/src/replication/restic-key-file';
import { SnapshotFileError, decodeSnapshotFile, snapshotInfo } from '../../apps/storage-plugin/src/replication/restic-snapshot-file';
import { SnapshotIdsAdapter } from '../../apps/storage-plugin/src/replication/snapshot-ids.adapter';
import { RestServer } from '../support/rest-server';
import { pluginConfig, pluginRoot } from '../support/storage-plugin';

jest.setTimeout(120_000);

const execFileAsync = promisify(execFile);
const root = pluginRoot('snapshot-files');

/** Real restic on `repo` with `password`, as a user would run it. */
async function restic(repo: string, password: string, args: string[]): Promise<string> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: join(root.path, 'cache') };
  return (await execFileAsync('restic', args, { env, encoding: 'utf8', timeout: 60_000 })).stdout;
}

/** The master key of a local repository, opened from its (calibrated) key file as restic would. */
async function masterOf(repo: string, password: string): Promise<CryptoKey> {
  const [id] = readdirSync(join(repo, 'keys'));
  const master = await openKey(parseKeyFile(id, readFileSync(join(repo, 'keys', id))), password);
  return masterKeyOf(master!);
}

/** A repository with a few snapshots (tags, none, an empty folder), of the given format version. */
async function repository(label: string, version: '1' | '2'): Promise<{ repo: string; password: string }> {
  const repo = join(root.path, label);
  const password = randomBytes(32).toString('hex');
  const data = join(root.path, `${label}-data`);
  mkdirSync(data, { recursive: true });
  await restic(repo, password, ['init', '--quiet', '--repository-version', version]);
  writeFileSync(join(data, 'a.txt'), randomBytes(2048));
  await restic(repo, password, ['backup', '--quiet', '--host', 'mosaic', '--tag', 'mosaic', '--tag', 'writer:x,gen:1', data]);
  writeFileSync(join(data, 'b.txt'), 'more');
  await restic(repo, password, ['backup', '--quiet', '--host', 'mosaic', '--time', '2026-12-07 12:00:00', data]);
  return { repo, password };
}

describe("restic's snapshot files, read without restic", () => {
  afterAll(() => root.remove());

  it.each(['2', '1'] as const)('reads every snapshot of a version %s repository as restic lists it', async (version) => {
    const { repo, password } = await repository(`v${version}`, version);
    const key = await masterOf(repo, password);
    const listed = (JSON.parse(await restic(repo, password, ['snapshots', '--json'])) as Array<{ id: string; time: string }>).map((s) => snapshotInfo(s.id, s));
    expect(listed).toHaveLength(2);
    const read = readdirSync(join(repo, 'snapshots')).map((id) => decodeSnapshotFile(key, id, readFileSync(join(repo, 'snapshots', id))));
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(read.sort(byId)).toEqual(listed.sort(byId));
    expect(read.find((s) => s.tags.length)).toMatchObject({ tags: ['mosaic', 'writer:x', 'gen:1'], totalBytes: 2048 });
  });

  it('refuses a file that does not hash to its name, one sealed with another key, and a name that is no id', async () => {
    const { repo, password } = await repository('refused', '2');
    const other = await repository('other', '2');
    const key = await masterOf(repo, password);
    const [id] = readdirSync(join(repo, 'snapshots'));
    const bytes = readFileSync(join(repo, 'snapshots', id));
    const flipped = Buffer.from(bytes);
    flipped[40] ^= 1;
    expect(() => decodeSnapshotFile(key, id, flipped)).toThrow(new SnapshotFileError(`snapshot ${id.slice(0, 8)} does not hash to its name`));
    // Stored under its own hash: restic's MAC is what refuses it then.
    const renamed = createHash('sha256').update(flipped).digest('hex');
    expect(() => decodeSnapshotFile(key, renamed, flipped)).toThrow(/is not sealed with the repository's key/);
    const otherKey = await masterOf(other.repo, other.password);
    expect(() => decodeSnapshotFile(otherKey, id, bytes)).toThrow(/is not sealed with the repository's key/);
    expect(() => decodeSnapshotFile(key, '../config', bytes)).toThrow(/is not a snapshot id/);
  });

  describe('SnapshotIdsAdapter.file', () => {
    it('reads a local snapshot file, and nothing that is not a regular file of a snapshot’s size', async () => {
      const { repo } = await repository('local', '2');
      const ids = new SnapshotIdsAdapter(pluginConfig(join(root.path, 'plugin-local')));
      const [id] = readdirSync(join(repo, 'snapshots'));
      await expect(ids.file(repo, id)).resolves.toEqual(readFileSync(join(repo, 'snapshots', id)));
      await expect(ids.file(`local:${repo}`, id)).resolves.toEqual(readFileSync(join(repo, 'snapshots', id)));
      const name = (n: number) => n.toString(16).padStart(64, 'f');
      // A FIFO is not waited on, a symlink not followed, a file larger than a snapshot not read.
      await execFileAsync('mkfifo', [join(repo, 'snapshots', name(1))]);
      symlinkSync(join(repo, 'config'), join(repo, 'snapshots', name(2)));
      writeFileSync(join(repo, 'snapshots', name(3)), Buffer.alloc(64 * 1024 + 1));
      for (const n of [1, 2, 3, 4]) await expect(ids.file(repo, name(n))).resolves.toBeUndefined();
      await expect(ids.file(repo, '../config')).resolves.toBeUndefined();
      await expect(ids.file('s3:https://s3.example.net/bucket/vol1', id)).resolves.toBeUndefined();
    });

    it("reads one from a REST server (restic's REST protocol), and nothing it does not serve", async () => {
      const store = join(root.path, 'rest-store');
      mkdirSync(store, { recursive: true });
      const server = new RestServer(store);
      await server.start();
      try {
        const url = `${server.url}vol1`;
        const password = randomBytes(32).toString('hex');
        const data = join(root.path, 'rest-data');
        mkdirSync(data, { recursive: true });
        writeFileSync(join(data, 'a.txt'), 'over REST');
        await restic(url, password, ['init', '--quiet']);
        await restic(url, password, ['backup', '--quiet', '--tag', 'mosaic', data]);
        const ids = new SnapshotIdsAdapter(pluginConfig(join(root.path, 'plugin-rest')));
        const listed = await ids.list(url);
        expect(listed).toBeInstanceOf(Set);
        const [id] = [...(listed as Set<string>)];
        const bytes = await ids.file(url, id);
        expect(decodeSnapshotFile(await masterOf(join(store, 'vol1'), password), id, bytes!)).toMatchObject({ id, tags: ['mosaic'] });
        await expect(ids.file(url, 'f'.repeat(64))).resolves.toBeUndefined();
      } finally {
        await server.stop();
      }
    });
  });
});
