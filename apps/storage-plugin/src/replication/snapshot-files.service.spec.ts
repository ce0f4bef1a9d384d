import { createHash, randomBytes } from 'node:crypto';
import { strictFake } from '../../../../test/support/strict-fake';
import { ReplicaKeysService } from './replica-keys.service';
import { CryptoKey, seal } from './restic-key-file';
import { Repository } from './restic.adapter';
import { MAX_SNAPSHOT_FILES, SnapshotFilesService } from './snapshot-files.service';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';

const newKey = (): CryptoKey => ({ encryption: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) });
const repo: Repository = { url: '/replicas/vol1', password: 'p'.repeat(64) };

/** A store of sealed snapshot files, with the reads it served and a way to hold them. */
class Store {
  readonly files = new Map<string, Buffer>();
  readonly reads: string[] = [];
  inFlight = 0;
  mostAtOnce = 0;
  /** Reads waiting for `release`, when set. */
  held?: Promise<void>;
  add(key: CryptoKey, n: number): string {
    const plain = Buffer.from(JSON.stringify({ time: `2026-12-07T12:00:${String(n).padStart(2, '0')}Z`, tree: 'cd'.repeat(32), tags: [`seq:${n}`] }));
    const bytes = seal(key, plain);
    const id = createHash('sha256').update(bytes).digest('hex');
    this.files.set(id, bytes);
    return id;
  }
  async file(url: string, id: string): Promise<Buffer | undefined> {
    expect(url).toBe(repo.url);
    this.reads.push(id);
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.inFlight);
    await this.held;
    await Promise.resolve();
    this.inFlight--;
    return this.files.get(id);
  }
}

describe('SnapshotFilesService', () => {
  let store: Store;
  let master: CryptoKey | undefined;
  let dropped: number;
  let service: SnapshotFilesService;

  beforeEach(() => {
    store = new Store();
    master = newKey();
    dropped = 0;
    service = new SnapshotFilesService(
      strictFake<SnapshotIdsAdapter>({ file: (url: string, id: string) => store.file(url, id) }),
      strictFake<ReplicaKeysService>({
        masterKey: async (r: Repository) => (r === repo ? master : undefined),
        dropMasterKey: (r: Repository) => void (r === repo && dropped++),
      }),
    );
  });

  it('reads every file it is asked for, a few at a time', async () => {
    const ids = Array.from({ length: 20 }, (_v, n) => store.add(master!, n));
    const read = await service.read(repo, ids);
    expect(read?.map((s) => s.id)).toEqual(ids);
    expect(read?.[3]).toEqual({ id: ids[3], time: '2026-12-07T12:00:03Z', tags: ['seq:3'] });
    expect(store.reads).toEqual(ids);
    expect(store.mostAtOnce).toBe(8);
    // No ids: still only with the repository's key (what restic's listing would check).
    await expect(service.read(repo, [])).resolves.toEqual([]);
    master = undefined;
    await expect(service.read(repo, [])).resolves.toBeUndefined();
  });

  it('leaves to restic a file that is gone, more files than it reads at once, and a repository without a master key', async () => {
    const id = store.add(master!, 1);
    await expect(service.read(repo, [id, 'e'.repeat(64)])).resolves.toBeUndefined();
    store.reads.length = 0;
    await expect(service.read(repo, Array.from({ length: MAX_SNAPSHOT_FILES + 1 }, () => id))).resolves.toBeUndefined();
    expect(store.reads).toEqual([]);
    master = undefined;
    await expect(service.read(repo, [id])).resolves.toBeUndefined();
    expect(dropped).toBe(0);
  });

  it('drops the master key when a file is not sealed with it (a repository made anew keeps its password), so it is read again', async () => {
    const id = store.add(newKey(), 1);
    await expect(service.read(repo, [id])).resolves.toBeUndefined();
    expect(dropped).toBe(1);
  });

  it('gives a store that does not answer within the budget over to restic', async () => {
    const id = store.add(master!, 1);
    let release!: () => void;
    store.held = new Promise<void>((resolve) => (release = resolve));
    await expect(service.read(repo, [id], 50)).resolves.toBeUndefined();
    expect(store.reads).toEqual([id]);
    release();
  });
});
