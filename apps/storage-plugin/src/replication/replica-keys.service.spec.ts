import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { strictFake } from '../../../../test/support/strict-fake';
import { Clock } from '../common/clock';
import { KeyStore, KeyStoreAdapter } from './key-store.adapter';
import { KEY_RETRY_MS, MASTER_RETRY_MS, ReplicaKeysService } from './replica-keys.service';
import { Repository, ResticAdapter } from './restic.adapter';
import { CHEAP_SCRYPT, isCheap, masterKeyOf, openKey, parseKeyFile, sealKey } from './restic-key-file';

/** restic's master key JSON, random. */
function masterKey(): Buffer {
  return Buffer.from(
    JSON.stringify({ mac: { k: randomBytes(16).toString('base64'), r: randomBytes(16).toString('base64') }, encrypt: randomBytes(32).toString('base64') }),
  );
}

const meta = { created: new Date('2026-12-07T05:00:00Z'), username: 'root', hostname: 'vm' };
/** What `restic init` would calibrate, kept small for a unit test: more than the cheap parameters. */
const CALIBRATED = { N: 2 ** 14, r: 8, p: 1 };

/** A repository's keys/ folder in memory; every write, read and removal counted. */
class MemoryKeys implements KeyStore {
  readonly files = new Map<string, Buffer>();
  failRemove?: Error;
  failWrite?: Error;
  removed: string[] = [];
  written: string[] = [];
  reads = 0;
  async list() {
    return [...this.files.keys()];
  }
  async read(id: string) {
    this.reads++;
    const bytes = this.files.get(id);
    if (!bytes) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    return bytes;
  }
  async write(id: string, bytes: Buffer) {
    if (this.failWrite) throw this.failWrite;
    this.written.push(id);
    this.files.set(id, bytes);
  }
  async remove(id: string) {
    if (this.failRemove) throw this.failRemove;
    this.removed.push(id);
    this.files.delete(id);
  }
  async add(master: Buffer, password: string, params = CALIBRATED): Promise<string> {
    const { id, bytes } = await sealKey(master, password, meta, params);
    this.files.set(id, bytes);
    return id;
  }
}

describe('ReplicaKeysService', () => {
  const url = '/replicas/vol1';
  const repo: Repository = { url, password: randomBytes(32).toString('hex') };
  let store: MemoryKeys;
  let now: number;
  /** What restic says it opened the repository with, given the hint it was run with. */
  let opening: (hint: string | undefined) => string;
  let openings: Array<string | undefined>;
  let service: ReplicaKeysService;
  const warnings: string[] = [];

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  beforeEach(() => {
    store = new MemoryKeys();
    now = Date.parse('2026-12-07T05:00:00Z');
    opening = (hint) => hint!;
    openings = [];
    warnings.length = 0;
    service = new ReplicaKeysService(
      strictFake<KeyStoreAdapter>({ storeFor: (u: string) => (u === url ? store : undefined) }),
      strictFake<ResticAdapter>({
        openingKey: async (r: Repository) => {
          expect(r.password).toBe(repo.password);
          openings.push(r.keyHint);
          return opening(r.keyHint);
        },
      }),
      strictFake<Clock>({ now: () => new Date(now) }),
    );
    jest.spyOn((service as unknown as { logger: Logger }).logger, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });

  it("adds a cheap key for the same master key, has restic open with it, then removes restic's calibrated key", async () => {
    const master = masterKey();
    const calibrated = await store.add(master, repo.password);
    await service.ensureCheap(repo, 'vol1');
    expect(store.written).toHaveLength(1);
    const cheap = store.written[0];
    expect(openings).toEqual([cheap]);
    expect(store.removed).toEqual([calibrated]);
    const key = parseKeyFile(cheap, store.files.get(cheap)!);
    expect(isCheap(key)).toBe(true);
    await expect(openKey(key, repo.password)).resolves.toEqual(master);
    expect(service.hint(url)).toBe(cheap);
    expect(service.due(url)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('does nothing more where the cheap key is already the only one, and asks restic nothing', async () => {
    const cheap = await store.add(masterKey(), repo.password, { N: 4096, r: 8, p: 1 });
    await service.ensureCheap(repo, 'vol1');
    expect(store.written).toEqual([]);
    expect(store.removed).toEqual([]);
    expect(openings).toEqual([]);
    expect(service.hint(url)).toBe(cheap);
  });

  it('leaves keys of other passwords alone', async () => {
    const master = masterKey();
    const own = await store.add(master, repo.password);
    const someoneElses = await store.add(master, 'a human password');
    await service.ensureCheap(repo, 'vol1');
    expect(store.removed).toEqual([own]);
    expect(store.files.has(someoneElses)).toBe(true);
    expect(store.files.size).toBe(2);
  });

  it('removes nothing, and takes its key back, when restic does not open the repository with the key it wrote', async () => {
    const calibrated = await store.add(masterKey(), repo.password);
    opening = () => calibrated;
    await service.ensureCheap(repo, 'vol1');
    expect(store.removed).toEqual([store.written[0]]);
    expect([...store.files.keys()]).toEqual([calibrated]);
    expect(service.hint(url)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/keeps restic's own key for now: restic did not open the repository with the cheap key/);
  });

  it('tries again after KEY_RETRY_MS, warning only once', async () => {
    await store.add(masterKey(), repo.password);
    store.failWrite = new Error('read-only store');
    await service.ensureCheap(repo, 'vol1');
    expect(service.due(url)).toBe(false);
    now += KEY_RETRY_MS;
    expect(service.due(url)).toBe(true);
    await service.ensureCheap(repo, 'vol1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/read-only store/);
    store.failWrite = undefined;
    now += KEY_RETRY_MS;
    await service.ensureCheap(repo, 'vol1');
    expect(service.hint(url)).toBe(store.written[0]);
  });

  it('keeps the cheap key as the hint when the calibrated one cannot be removed', async () => {
    const calibrated = await store.add(masterKey(), repo.password);
    store.failRemove = new Error('HTTP 403');
    await service.ensureCheap(repo, 'vol1');
    expect(store.files.has(calibrated)).toBe(true);
    expect(service.hint(url)).toBe(store.written[0]);
    expect(service.due(url)).toBe(false);
    expect(warnings[0]).toMatch(/HTTP 403/);
  });

  it('fails (and keeps everything) when no key opens with the password', async () => {
    await store.add(masterKey(), 'another password');
    await service.ensureCheap(repo, 'vol1');
    expect(store.written).toEqual([]);
    expect(warnings[0]).toMatch(/no key of the repository opens with its password/);
  });

  it('leaves stores it cannot write alone (S3, sftp), and forgets what it knew of a repository made anew', async () => {
    const s3 = { ...repo, url: 's3:https://s3.example.net/bucket/vol1' };
    await service.ensureCheap(s3, 'vol1');
    expect(service.due(s3.url)).toBe(false);
    expect(service.hint(s3.url)).toBeUndefined();
    await store.add(masterKey(), repo.password);
    await service.ensureCheap(repo, 'vol1');
    expect(service.hint(url)).toBeDefined();
    service.forget(url);
    expect(service.due(url)).toBe(true);
    expect(service.hint(url)).toBeUndefined();
  });

  describe('the master key (to read snapshot files without restic)', () => {
    it('opens it from a cheap key file, the hint first, and keeps it for the same password', async () => {
      const master = masterKey();
      await store.add(masterKey(), 'another password', CHEAP_SCRYPT);
      await store.add(master, repo.password, CHEAP_SCRYPT);
      await expect(service.masterKey(repo)).resolves.toEqual(masterKeyOf(master));
      const reads = store.reads;
      await expect(service.masterKey(repo)).resolves.toEqual(masterKeyOf(master));
      expect(store.reads).toBe(reads);
      // Another password is not given the key it opened.
      await expect(service.masterKey({ ...repo, password: 'another password' })).resolves.not.toEqual(masterKeyOf(master));
    });

    it("keeps the one ensureCheap opened, and forgets it with the repository", async () => {
      const master = masterKey();
      await store.add(master, repo.password);
      await service.ensureCheap(repo, 'vol1');
      const reads = store.reads;
      await expect(service.masterKey(repo)).resolves.toEqual(masterKeyOf(master));
      expect(store.reads).toBe(reads);
      service.forget(url);
      store.files.clear();
      await expect(service.masterKey(repo)).resolves.toBeUndefined();
    });

    it("leaves restic's calibrated keys to restic, and has none for another password or a store it cannot read", async () => {
      await store.add(masterKey(), repo.password);
      await expect(service.masterKey(repo)).resolves.toBeUndefined();
      await store.add(masterKey(), 'another password', CHEAP_SCRYPT);
      await expect(service.masterKey(repo)).resolves.toBeUndefined();
      await expect(service.masterKey({ ...repo, url: 's3:https://s3.example.net/bucket/vol1' })).resolves.toBeUndefined();
      expect(warnings).toEqual([]);
    });

    it('looks again only MASTER_RETRY_MS after none opened, or at once when the key it had opened nothing', async () => {
      await expect(service.masterKey(repo)).resolves.toBeUndefined();
      const master = masterKey();
      await store.add(master, repo.password, CHEAP_SCRYPT);
      const reads = store.reads;
      await expect(service.masterKey(repo)).resolves.toBeUndefined();
      expect(store.reads).toBe(reads);
      now += MASTER_RETRY_MS;
      await expect(service.masterKey(repo)).resolves.toEqual(masterKeyOf(master));
      const opened = store.reads;
      service.dropMasterKey(repo);
      await expect(service.masterKey(repo)).resolves.toEqual(masterKeyOf(master));
      expect(store.reads).toBeGreaterThan(opened);
    });
  });
});
