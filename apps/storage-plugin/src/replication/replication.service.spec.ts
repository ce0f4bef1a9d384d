import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, replicaPassword } from '@mosaic/protocol';
import { eventually } from '../../../../test/support/eventually';
import { strictFake } from '../../../../test/support/strict-fake';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { Clock } from '../common/clock';
import { FilesAdapter } from '../common/files.adapter';
import { PluginConfig } from '../config/plugin-config';
import { KeyRegistry } from '../keys/key-registry.service';
import { metricValue } from '../../../../test/support/metric-value';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { ReplicaTarget, ReplicationService, UnsupportedToolError } from './replication.service';
import { Repository, ResticAdapter, ResticError } from './restic.adapter';
import { ReplicaKeysService } from './replica-keys.service';
import { SnapshotFilesService } from './snapshot-files.service';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';
import { SnapshotInfo } from './writer-rule';

const SECRET = Buffer.from('secret key packet bytes');
const FINGERPRINT = 'f'.repeat(40);
const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

interface FakeSnapshot extends SnapshotInfo {
  files: Record<string, string>;
}

/** restic's ids are 64 hex digits; the fake's end in a counter, and its calls name them `#<n>`. */
const sid = (n: number) => n.toString(16).padStart(64, '0');
const short = (id: string) => `#${Number.parseInt(id, 16)}`;

/** The replica store: what every device's restic sees. */
class FakeStore {
  readonly repos = new Map<string, { password: string; snapshots: FakeSnapshot[] }>();
  made = 0;
  /** Whether the store's snapshot ids can be read without restic (a local folder or a REST server can). */
  readable = true;
  /** Reads of the snapshot ids, without restic. */
  idReads = 0;

  /** SnapshotIdsAdapter.list over this store. */
  list(url: string): Promise<ReadonlySet<string> | 'missing' | undefined> {
    this.idReads++;
    if (!this.readable) return Promise.resolve(undefined);
    const repo = this.repos.get(url);
    return Promise.resolve(repo ? new Set(repo.snapshots.map((s) => s.id)) : 'missing');
  }

  /** Whether snapshot files can be read without restic (SnapshotFilesService); off unless a test turns it on. */
  filesReadable = false;
  /** The ids of the snapshot files read without restic. */
  readonly fileReads: string[] = [];

  /** SnapshotFilesService.read over this store: the repository's password must open it, as its master key's. */
  read(repo: Repository, ids: readonly string[]): Promise<SnapshotInfo[] | undefined> {
    const stored = this.repos.get(repo.url);
    if (!this.filesReadable || stored?.password !== repo.password) return Promise.resolve(undefined);
    this.fileReads.push(...ids);
    const found = ids.map((id) => stored.snapshots.find((s) => s.id === id));
    if (!found.every((s) => s !== undefined)) return Promise.resolve(undefined);
    return Promise.resolve(found.map(({ id, time, tags, totalBytes }) => ({ id, time, tags, ...(totalBytes === undefined ? {} : { totalBytes }) })));
  }
}

/**
 * One device's restic as an in-memory repository per URL, over real directories. It fails the test
 * if two of this device's operations ever overlap on one repository, but for the one pair a
 * failover runs side by side (a claim's backup and a restore: both take restic's shared lock), and
 * records every call. A second device shares the store: `new FakeRestic(restic.store)`.
 */
class FakeRestic {
  readonly calls: string[] = [];
  /** The `--key-hint` of each call, in order. */
  readonly keyHints: Array<string | undefined> = [];
  /** The operations running per repository, by first word. */
  private readonly running = new Map<string, string[]>();
  /** The most operations that ran at once on one repository. */
  overlapped = 0;
  /** Set by a test to fail or hold the next call of a command: by its full name, or by its first word. */
  readonly hooks: Record<string, (() => Promise<void>) | undefined> = {};
  failRestoreAfter: number | undefined = undefined;
  /** restic ≥ 0.17 records a summary (with the snapshot's size) in every snapshot it makes. */
  summaries = true;
  /** Whether each restore took restic's lock, in order. */
  readonly restoreLocks: Array<'locked' | 'unlocked'> = [];

  constructor(readonly store = new FakeStore()) {}

  get repos() {
    return this.store.repos;
  }

  private async op<T>(repo: Repository, name: string, body: () => T | Promise<T>): Promise<T> {
    const verb = name.split(' ')[0];
    const others = this.running.get(repo.url) ?? [];
    const shared = [...others, verb].sort().join(',');
    if (others.length && shared !== 'backup,restore') throw new Error(`${shared} at once on ${repo.url}`);
    this.running.set(repo.url, [...others, verb]);
    this.overlapped = Math.max(this.overlapped, others.length + 1);
    this.calls.push(name);
    this.keyHints.push(repo.keyHint);
    try {
      const key = this.hooks[name] ? name : name.split(' ')[0];
      const hook = this.hooks[key];
      this.hooks[key] = undefined;
      if (hook) await hook();
      return await body();
    } finally {
      const left = (this.running.get(repo.url) ?? []).filter((v, i, all) => i !== all.indexOf(verb));
      if (left.length) this.running.set(repo.url, left);
      else this.running.delete(repo.url);
    }
  }

  private open(repo: Repository) {
    const stored = this.repos.get(repo.url);
    if (!stored) throw new ResticError('missing-repository', 'restic snapshots: unable to open config file');
    if (stored.password !== repo.password) throw new ResticError('wrong-password', 'wrong password or no key found');
    return stored;
  }

  snapshots(repo: Repository, ids: string[] = []): Promise<SnapshotInfo[]> {
    return this.op(repo, 'snapshots', () =>
      this.open(repo)
        .snapshots.filter((s) => !ids.length || ids.includes(s.id))
        .map(({ id, time, tags, totalBytes }) => ({ id, time, tags, ...(totalBytes === undefined ? {} : { totalBytes }) })),
    );
  }
  init(repo: Repository): Promise<void> {
    return this.op(repo, 'init', () => void this.repos.set(repo.url, { password: repo.password, snapshots: [] }));
  }
  backup(repo: Repository, dir: string, tags: string[], _host: string, time: Date): Promise<{ snapshotId: string; dataAdded: number; totalBytes?: number }> {
    return this.op(repo, `backup ${tags.join(',')}`, () => {
      // Like restic here: the folder itself is the snapshot's one top-level entry, even when empty.
      const files: Record<string, string> = { [basename(dir)]: '/' };
      for (const name of readdirSync(dir)) files[join(basename(dir), name)] = readFileSync(join(dir, name), 'utf8');
      const id = sid(++this.store.made);
      const size = Object.values(files).filter((c) => c !== '/').reduce((n, c) => n + c.length, 0);
      this.open(repo).snapshots.push({ id, time: time.toISOString(), tags, files, ...(this.summaries ? { totalBytes: size } : {}) });
      return { snapshotId: id, dataAdded: size, ...(this.summaries ? { totalBytes: size } : {}) };
    });
  }
  restoreSize(repo: Repository, id: string): Promise<number> {
    return this.op(repo, 'stats', () =>
      Object.values(this.find(repo, id).files)
        .filter((c) => c !== '/')
        .reduce((n, c) => n + c.length, 0),
    );
  }
  restore(
    repo: Repository,
    id: string,
    target: string,
    options: { incremental?: boolean; unlocked?: boolean; onProgress?: (fraction: number) => void } = {},
  ): Promise<void> {
    this.restoreLocks.push(options.unlocked ? 'unlocked' : 'locked');
    return this.op(repo, `restore${options.incremental ? ' --incremental' : ''} ${short(id)}`, () => {
      let written = 0;
      const files = this.find(repo, id).files;
      if (options.incremental) {
        // --delete: what the snapshot does not hold goes (the fake's snapshots are one folder deep).
        for (const entry of readdirSync(target)) {
          for (const name of readdirSync(join(target, entry))) {
            if (!(join(entry, name) in files)) rmSync(join(target, entry, name), { recursive: true });
          }
        }
      }
      const entries = Object.entries(files);
      entries.forEach(([name, content], index) => {
        if (this.failRestoreAfter !== undefined && written++ >= this.failRestoreAfter) {
          throw new ResticError('no-space', `restic restore: write ${join(target, name)}: no space left on device`);
        }
        if (content === '/') mkdirSync(join(target, name), { recursive: true });
        else writeFileSync(join(target, name), content);
        // restic's own status lines (`percent_done`), as the adapter hands them on.
        options.onProgress?.((index + 1) / entries.length);
      });
    });
  }
  forget(repo: Repository): Promise<void> {
    return this.op(repo, 'forget', () => undefined);
  }
  forgetSnapshots(repo: Repository, ids: string[], options: { prune: boolean } = { prune: true }): Promise<void> {
    return this.op(repo, `forget${options.prune ? ' --prune' : ''} ${ids.map(short).join(',')}`, () => {
      const stored = this.open(repo);
      stored.snapshots = stored.snapshots.filter((s) => !ids.includes(s.id));
    });
  }
  unlock(repo: Repository): Promise<void> {
    return this.op(repo, 'unlock', () => undefined);
  }
  resticVersion = '0.18.0';
  version(): Promise<string> {
    return Promise.resolve(this.resticVersion);
  }

  /** The replica's snapshots as stored, oldest first. */
  stored(url: string): FakeSnapshot[] {
    return this.repos.get(url)?.snapshots ?? [];
  }

  private find(repo: Repository, id: string): FakeSnapshot {
    const found = this.open(repo).snapshots.find((s) => s.id === id);
    if (!found) throw new ResticError('other', `no snapshot ${id}`);
    return found;
  }
}

/** ReplicaKeysService as the replication service sees it: which repositories it was asked to check, and their hints. */
class FakeReplicaKeys {
  readonly checked: string[] = [];
  readonly forgotten: string[] = [];
  readonly hints = new Map<string, string>();
  private readonly done = new Set<string>();
  hint(url: string): string | undefined {
    return this.hints.get(url);
  }
  due(url: string): boolean {
    return !this.done.has(url);
  }
  forget(url: string): void {
    this.forgotten.push(url);
    this.done.delete(url);
  }
  async ensureCheap(repo: Repository, name: string): Promise<void> {
    expect(repo.password).toBe(replicaPassword(SECRET, name));
    this.checked.push(name);
    this.done.add(repo.url);
  }
}

describe('ReplicationService', () => {
  // The failures these tests provoke are logged as warnings; they are asserted, not shown.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  const root = pluginRoot('replication');
  let config: PluginConfig;
  let restic: FakeRestic;
  let registered: boolean;
  let cases = 0;
  let metrics: PluginMetrics;
  let replicaKeys: FakeReplicaKeys;
  /** Every service a test made: shut down after it (a stage is watched until then). */
  let made: ReplicationService[] = [];

  /**
   * A device's ReplicationService. Another device passes its own FakeRestic over the same store,
   * its own clock, and what its pauses between claim attempts do (by default they end at once).
   */
  function service(
    overrides: Record<string, string> = {},
    device: { restic?: FakeRestic; now?: string; wait?: (ms: number) => Promise<void> } = {},
  ): ReplicationService {
    metrics = new PluginMetrics();
    config = pluginConfig(join(root.path, `case-${cases}`), overrides);
    const now = device.now ?? '2026-11-25T12:00:00.000Z';
    const service_ = new ReplicationService(
      config,
      strictFake<ResticAdapter>((device.restic ?? restic) as unknown as ResticAdapter, 'ResticAdapter'),
      strictFake<KeyRegistry>({ secretFor: () => (registered ? SECRET : undefined), has: () => registered }, 'KeyRegistry'),
      new FilesAdapter(),
      strictFake<Clock>({ now: () => new Date(now), wait: device.wait ?? (() => Promise.resolve()) }, 'Clock'),
      metrics,
      strictFake<SnapshotIdsAdapter>({ list: (url: string) => (device.restic ?? restic).store.list(url) }, 'SnapshotIdsAdapter'),
      strictFake<ReplicaKeysService>((replicaKeys = new FakeReplicaKeys()) as unknown as ReplicaKeysService, 'ReplicaKeysService'),
      strictFake<SnapshotFilesService>({ read: (repo: Repository, ids: readonly string[]) => (device.restic ?? restic).store.read(repo, ids) }, 'SnapshotFilesService'),
    );
    made.push(service_);
    return service_;
  }

  function replicaUrl(): string {
    return join(config.replicaUrl, 'vol1');
  }

  function target(writer = A, name = 'vol1'): ReplicaTarget {
    return { name, fingerprint: FINGERPRINT, writer };
  }

  function dataDir(label: string): string {
    const dir = join(root.path, `case-${cases}`, label, 'vol1', 'data');
    mkdirSync(dirname(dir), { recursive: true });
    return dir;
  }

  /** A replica with data written by `writer`. */
  async function seed(replication: ReplicationService, writer: string, files: Record<string, string>): Promise<string> {
    const dir = dataDir(`seed-${writer}`);
    await replication.prepare(target(writer), dir, { failover: false });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    await replication.snapshot(target(writer), dir);
    await replication.settle('vol1');
    return dir;
  }

  beforeEach(() => {
    cases++;
    restic = new FakeRestic();
    registered = true;
  });

  afterEach(async () => {
    const services = made;
    made = [];
    await Promise.all(services.map((s) => s.beforeApplicationShutdown()));
  });

  afterAll(() => root.remove());

  it('opens one repository per volume below REPLICA_URL, with the password derived from the key', async () => {
    const local = service({ REPLICA_URL: '/srv/replicas/' });
    expect(local.repositoryUrl('vol1')).toBe('/srv/replicas/vol1');
    expect(service({ REPLICA_URL: 'rest:http://127.0.0.1:8000/' }).repositoryUrl('vol1')).toBe('rest:http://127.0.0.1:8000/vol1');
    expect(service({ REPLICA_URL: 's3:https://s3.example.net/bucket' }).repositoryUrl('vol1')).toBe(
      's3:https://s3.example.net/bucket/vol1',
    );

    const replication = service();
    await replication.prepare(target(), dataDir('a'), { failover: false });
    expect(restic.repos.get(join(config.replicaUrl, 'vol1'))?.password).toBe(replicaPassword(SECRET, 'vol1'));
  });

  it('creates the repository and an empty data dir when there is no replica', async () => {
    const replication = service();
    const dir = dataDir('a');
    expect(await replication.prepare(target(), dir, { failover: false })).toEqual({
      isWriter: true,
      replicaWriter: null,
      restoredFrom: null,
      snapshotAt: null,
    });
    // The store says no repository is there (no `config`): restic only creates it.
    expect(restic.calls).toEqual(['init']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("gives a replica its cheap key after creating it and after its snapshots, once per process, and restic tries that key first", async () => {
    const replication = service();
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    await replication.settle('vol1');
    expect(replicaKeys.forgotten).toEqual([replicaUrl()]);
    expect(replicaKeys.checked).toEqual(['vol1']);
    replicaKeys.hints.set(replicaUrl(), 'c'.repeat(64));
    restic.keyHints.length = 0;
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(replicaKeys.checked).toEqual(['vol1']);
    expect(restic.keyHints.length).toBeGreaterThan(0);
    expect(restic.keyHints.every((hint) => hint === 'c'.repeat(64))).toBe(true);
  });

  it("checks an existing replica's key at its next snapshot, not when it is only read", async () => {
    const first = service();
    await seed(first, A, { 'a.txt': 'from A' });
    const replication = service();
    const dir = dataDir('again');
    await replication.prepare(target(), dir, { failover: false });
    await replication.writerOf(target());
    await replication.settle('vol1');
    expect(replicaKeys.checked).toEqual([]);
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(replicaKeys.checked).toEqual(['vol1']);
    await replication.destroy(target());
    expect(replicaKeys.forgotten).toEqual([replicaUrl()]);
  });

  it('restores the newest data snapshot, with progress, and tells who writes the replica', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const progress: number[] = [];
    const dir = dataDir('b');
    const result = await replication.prepare(target(B), dir, { failover: false, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ isWriter: false, replicaWriter: A, restoredFrom: sid(2), snapshotAt: '2026-11-25T12:00:00.000Z' });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('from A');
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(100);
    // Between them, restic's own progress (one folder and one file: half way after the first).
    expect(progress).toEqual([0, 50, 99, 100]);
    // The snapshot's size comes from its summary: no separate `restic stats`; and the replica holds
    // the snapshots this process stored itself, nothing else: no listing either.
    expect(restic.calls).toEqual(['restore #2']);
    expect(readdirSync(dirname(dir))).toEqual(['data']); // no temp dir left
  });

  it('asks restic for the size of a snapshot made before summaries existed', async () => {
    const replication = service();
    restic.summaries = false;
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const dir = dataDir('b');
    await replication.prepare(target(B), dir, { failover: false });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('from A');
    expect(restic.calls).toEqual(['stats', 'restore #2']);
  });

  it('counts snapshots by outcome with the bytes they added, and restores with the bytes they wrote', async () => {
    const replication = service();
    const dirA = await seed(replication, A, { 'a.txt': 'from A' });
    expect(await metricValue(metrics.registry, 'mosaic_storage_replications_total', { outcome: 'ok' })).toBe(1);
    expect(await metricValue(metrics.registry, 'mosaic_storage_replicated_bytes_total')).toBe('from A'.length);
    expect(await metricValue(metrics.registry, 'mosaic_storage_replication_duration_seconds_count')).toBe(1);

    await replication.prepare(target(B), dataDir('b'), { failover: true });
    expect(await metricValue(metrics.registry, 'mosaic_storage_restores_total', { outcome: 'ok' })).toBe(1);
    expect(await metricValue(metrics.registry, 'mosaic_storage_restored_bytes_total')).toBe('from A'.length);

    await expect(replication.snapshot(target(A), dirA)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    expect(await metricValue(metrics.registry, 'mosaic_storage_replications_total', { outcome: ErrorCode.NOT_WRITER })).toBe(1);
    expect(await metricValue(metrics.registry, 'mosaic_storage_replications_total', { outcome: 'ok' })).toBe(1);
  });

  it('on failover claims the next generation, from the current data, and restores that (not the claim) side by side', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const dir = dataDir('b');
    // Each waits until the other has begun: run one after the other, they would never end.
    const claiming = gate();
    const restoring = gate();
    restic.hooks.backup = async () => {
      claiming.open();
      await restoring.promise;
    };
    restic.hooks.restore = async () => {
      restoring.open();
      await claiming.promise;
    };
    const result = await replication.prepare(target(B), dir, { failover: true });
    // The claim is read back from the store's ids (no rival's id there): no second listing.
    expect(restic.calls.sort()).toEqual([`backup mosaic-claim,writer:${B},gen:2,base:${sid(2)}`, 'restore #2']);
    expect(restic.overlapped).toBe(2);
    expect(result).toMatchObject({ isWriter: true, replicaWriter: B, restoredFrom: sid(2) });
    expect(readdirSync(dir)).toEqual(['a.txt']);
    expect(readdirSync(dirname(dir))).toEqual(['data']);

    // From now on the old writer is refused, the new one is not.
    await expect(replication.snapshot(target(A), dataDir('seed-' + A))).rejects.toMatchObject({
      code: ErrorCode.NOT_WRITER,
      details: { writer: B },
    });
    await expect(replication.snapshot(target(B), dir)).resolves.toEqual({ at: '2026-11-25T12:00:00.000Z' });
  });

  it('restores again once the claim is done when the restore beside it failed (it read a file the claim was writing)', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const dir = dataDir('b');
    const torn = () => Promise.reject(new Error('restic restore: LoadRaw(<index/2cc41c9ef8>): invalid data returned'));
    restic.hooks.restore = torn; // hooks are used once: the restore after it works
    const result = await replication.prepare(target(B), dir, { failover: true });
    expect(restic.calls.filter((call) => call.startsWith('restore'))).toEqual(['restore #2', 'restore #2']);
    expect(result).toMatchObject({ isWriter: true, replicaWriter: B, restoredFrom: sid(2) });
    expect(readdirSync(dir)).toEqual(['a.txt']);
    // Nothing of the failed restore is left beside the volume.
    expect(readdirSync(dirname(dir))).toEqual(['data']);

    // Once only: a restore that fails again fails the failover.
    restic.calls.length = 0;
    const tornTwice = () => {
      restic.hooks.restore = torn;
      return torn();
    };
    restic.hooks.restore = tornTwice;
    await expect(replication.prepare(target(A), dataDir('a-back'), { failover: true })).rejects.toThrow(/invalid data returned/);
    expect(restic.calls.filter((call) => call.startsWith('restore'))).toHaveLength(2);
  });

  describe('a staged move', () => {
    const stagingOf = (name = 'vol1') => join(config.dataDir, 'staging', name);

    it("restores without restic's lock, and once more under it when that read a file being written or removed; not when the disk is full", async () => {
      const writer = service({}, { restic: new FakeRestic(restic.store) });
      const replication = service();
      await seed(writer, A, { 'a.txt': 'from A' });
      restic.calls.length = 0;
      restic.restoreLocks.length = 0;
      restic.hooks.restore = () => Promise.reject(new ResticError('torn-read', 'LoadRaw(<index/2cc41c9ef8>): invalid data returned'));
      const staged = await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      expect(staged).toMatchObject({ snapshot: sid(2), bytes: 'from A'.length });
      expect(restic.calls.filter((call) => call.startsWith('restore'))).toEqual(['restore #2', 'restore #2']);
      expect(restic.restoreLocks).toEqual(['unlocked', 'locked']);
      expect(readdirSync(join(stagingOf(), 'data'))).toEqual(['a.txt']);

      // A pack the writer's prune removed meanwhile: restic says only that a load failed.
      expect(await replication.discardStage('vol1')).toBe(true);
      restic.restoreLocks.length = 0;
      restic.hooks.restore = () =>
        Promise.reject(new ResticError('other', 'restic restore: Load(<data/688e77b5b4>, 3000156, 0) failed: no such file or directory / Fatal: There were 3 errors'));
      await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      expect(restic.restoreLocks).toEqual(['unlocked', 'locked']);
      expect(readdirSync(join(stagingOf(), 'data'))).toEqual(['a.txt']);

      // Once only: failing under the lock too fails the stage, and leaves nothing.
      expect(await replication.discardStage('vol1')).toBe(true);
      restic.restoreLocks.length = 0;
      const fails = () => Promise.reject(new ResticError('other', 'Fatal: something else'));
      restic.hooks.restore = () => {
        restic.hooks.restore = fails;
        return fails();
      };
      await expect(replication.stage({ name: 'vol1', fingerprint: FINGERPRINT })).rejects.toThrow(/something else/);
      expect(restic.restoreLocks).toEqual(['unlocked', 'locked']);
      expect(existsSync(stagingOf())).toBe(false);

      // A full disk is not tried again.
      restic.restoreLocks.length = 0;
      restic.hooks.restore = () => Promise.reject(new ResticError('no-space', 'restic restore: write x: no space left on device'));
      await expect(replication.stage({ name: 'vol1', fingerprint: FINGERPRINT })).rejects.toThrow(/disk filled up/);
      expect(restic.restoreLocks).toEqual(['unlocked']);
      expect(existsSync(stagingOf())).toBe(false);
    });

    it('stages without a claim, then a failover claims and brings the stage up to date instead of restoring in full', async () => {
      // A writes the replica from a device of its own; this one (B) stages, then takes it over.
      const writer = service({}, { restic: new FakeRestic(restic.store) });
      const replication = service();
      const dirA = await seed(writer, A, { 'a.txt': 'from A', 'gone.txt': 'deleted later' });
      restic.calls.length = 0;
      const staged = await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      expect(staged).toMatchObject({ name: 'vol1', snapshot: sid(2), incremental: false, bytes: 'from A'.length + 'deleted later'.length });
      expect(restic.calls).toEqual(['snapshots', 'restore #2']);
      expect(replication.stagedSnapshot('vol1')).toBe(sid(2));
      // A still writes: staging claimed nothing.
      writeFileSync(join(dirA, 'a.txt'), 'A, later');
      rmSync(join(dirA, 'gone.txt'));
      await writer.snapshot(target(A), dirA);

      restic.calls.length = 0;
      const dir = dataDir('b');
      const result = await replication.prepare(target(B), dir, { failover: true });
      // A's final snapshot is new to B: one listing; then the claim and the restore side by side, and
      // the claim read back from the store's ids.
      expect(restic.calls[0]).toBe('snapshots');
      expect(restic.calls.slice(1).sort()).toEqual([`backup mosaic-claim,writer:${B},gen:2,base:${sid(3)}`, 'restore --incremental #3']);
      expect(result).toMatchObject({ isWriter: true, restoredFrom: sid(3) });
      expect(readdirSync(dir)).toEqual(['a.txt']);
      expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('A, later');
      expect(existsSync(stagingOf())).toBe(false);
      expect(replication.stagedSnapshot('vol1')).toBeUndefined();
    });

    it("is watched: the source's final snapshot is listed as soon as it is stored, and the move goes straight to its claim", async () => {
      const writer = service({}, { restic: new FakeRestic(restic.store) });
      const replication = service();
      const dirA = await seed(writer, A, { 'a.txt': 'one' });
      await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      writeFileSync(join(dirA, 'a.txt'), 'two');
      restic.calls.length = 0;
      await writer.snapshot(target(A), dirA);
      await eventually('the staging device lists the new snapshot by itself', async () => [...restic.calls], (calls) => calls.includes('snapshots'), 10_000);
      restic.calls.length = 0;
      const dir = dataDir('b');
      await replication.prepare(target(B), dir, { failover: true });
      expect(restic.calls.sort()).toEqual([`backup mosaic-claim,writer:${B},gen:2,base:${sid(3)}`, 'restore --incremental #3']);
      expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('two');
      // The stage is used: nothing watches the replica any more.
      const reads = restic.store.idReads;
      await new Promise((r) => setTimeout(r, 600));
      expect(restic.store.idReads).toBe(reads);
    });

    it('a second stage brings the first up to date; a replica without data stages nothing', async () => {
      const writer = service({}, { restic: new FakeRestic(restic.store) });
      const replication = service();
      const dirA = await seed(writer, A, { 'a.txt': 'one' });
      await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      writeFileSync(join(dirA, 'b.txt'), 'two');
      await writer.snapshot(target(A), dirA);
      restic.calls.length = 0;
      await expect(replication.stage({ name: 'vol1', fingerprint: FINGERPRINT })).resolves.toMatchObject({ snapshot: sid(3), incremental: true });
      expect(restic.calls).toEqual(['snapshots', 'restore --incremental #3']);
      expect(readdirSync(join(stagingOf(), 'data')).sort()).toEqual(['a.txt', 'b.txt']);
      await expect(replication.stage({ name: 'other', fingerprint: FINGERPRINT })).resolves.toEqual({
        name: 'other',
        snapshot: null,
        snapshotAt: null,
        bytes: 0,
        incremental: false,
      });
    });

    it('a stage that fills the disk keeps nothing, and the move restores in full', async () => {
      const replication = service();
      await seed(replication, A, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
      restic.failRestoreAfter = 1;
      await expect(replication.stage({ name: 'vol1', fingerprint: FINGERPRINT })).rejects.toMatchObject({
        code: ErrorCode.RESTORE_FAILED,
        message: 'The disk filled up while staging vol1; nothing was kept.',
      });
      expect(existsSync(stagingOf())).toBe(false);
      restic.failRestoreAfter = undefined;
      restic.calls.length = 0;
      await replication.prepare(target(B), dataDir('b'), { failover: true });
      expect(restic.calls).toContain('restore #2');
    });

    it('is discarded on request, and by the next process (a stage lives as long as the process that made it)', async () => {
      const replication = service();
      await seed(replication, A, { 'a.txt': 'a' });
      await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      await expect(replication.discardStage('vol1')).resolves.toBe(true);
      expect(existsSync(stagingOf())).toBe(false);
      await expect(replication.discardStage('vol1')).resolves.toBe(false);

      await replication.stage({ name: 'vol1', fingerprint: FINGERPRINT });
      expect(existsSync(join(stagingOf(), 'data', 'a.txt'))).toBe(true);
      const next = service();
      await next.onModuleInit();
      expect(readdirSync(join(config.dataDir, 'staging'))).toEqual([]);
    });
  });

  it('does not claim again when this device already writes the replica, and keeps its newer local data', async () => {
    const replication = service();
    const dir = await seed(replication, A, { 'a.txt': 'v1' });
    writeFileSync(join(dir, 'a.txt'), 'v2, not replicated yet');
    restic.calls.length = 0;
    await replication.prepare(target(A), dir, { failover: true });
    // Its own snapshots, and nothing else, in the store: not even a listing.
    expect(restic.calls).toEqual([]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('v2, not replicated yet');
  });

  it('replaces stale local data when a failover takes the replica back', async () => {
    const replication = service();
    const dirA = await seed(replication, A, { 'a.txt': 'old' });
    const dirB = dataDir('b');
    await replication.prepare(target(B), dirB, { failover: true });
    writeFileSync(join(dirB, 'a.txt'), 'newer, from B');
    await replication.snapshot(target(B), dirB);
    await replication.prepare(target(A), dirA, { failover: true });
    expect(readFileSync(join(dirA, 'a.txt'), 'utf8')).toBe('newer, from B');
    expect(readdirSync(dirname(dirA))).toEqual(['data']);
  });

  it('replicates and restores an empty volume (restic refuses an empty snapshot root)', async () => {
    const replication = service();
    await seed(replication, A, {});
    const dir = dataDir('b');
    expect(await replication.prepare(target(A), dir, { failover: false })).toMatchObject({ restoredFrom: sid(2) });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a snapshot that does not hold the data folder, and keeps nothing', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'a' });
    const stored = restic.stored(replicaUrl()).find((s) => s.tags.includes('mosaic'))!;
    stored.files = { 'a.txt': 'a' }; // contents at the root, no folder
    const dir = dataDir('b');
    await expect(replication.prepare(target(A), dir, { failover: false })).rejects.toMatchObject({
      code: ErrorCode.RESTORE_FAILED,
      message: expect.stringMatching(/holds no data folder/),
    });
    expect(readdirSync(dirname(dir))).toEqual([]);
  });

  it('fails a restore that fills the disk with RESTORE_FAILED and removes what it wrote', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    restic.failRestoreAfter = 1;
    const dir = dataDir('b');
    await expect(replication.prepare(target(A), dir, { failover: false })).rejects.toMatchObject({
      code: ErrorCode.RESTORE_FAILED,
      message: 'The disk filled up while restoring vol1; nothing was kept.',
    });
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(dirname(dir))).toEqual([]);
  });

  it('says so when the replica does not open with the key', async () => {
    await seed(service({}, { restic: new FakeRestic(restic.store) }), A, { 'a.txt': 'a' });
    restic.repos.get(join(config.replicaUrl, 'vol1'))!.password = 'another key';
    const replication = service();
    await expect(replication.prepare(target(A), dataDir('b'), { failover: false })).rejects.toMatchObject({
      code: ErrorCode.STORAGE_UNAVAILABLE,
      message: expect.stringContaining('belongs to another key'),
    });
  });

  it('needs the key for every replica operation', async () => {
    registered = false;
    const replication = service();
    await expect(replication.prepare(target(), dataDir('a'), { failover: false })).rejects.toMatchObject({ code: ErrorCode.KEYS_MISSING });
    await expect(replication.snapshot(target(), dataDir('a'))).rejects.toMatchObject({
      code: ErrorCode.KEYS_MISSING,
      message: expect.stringMatching(/not registered/),
    });
    expect(restic.calls).toEqual([]);
  });

  it('claims a new replica before its first snapshot, tags data with generation and sequence, checks the writer before each, and prunes after', async () => {
    const replication = service({ RETENTION_KEEP_LAST: '1', RETENTION_KEEP_DAILY: '0', RETENTION_PRUNE_INTERVAL_S: '0' });
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    restic.calls.length = 0;
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    // Each check reads the store's snapshot ids (nothing but this device's own): no restic listing;
    // with one data snapshot the prune has nothing to forget.
    expect(restic.calls).toEqual([`backup mosaic-claim,writer:${A},gen:1`, `backup mosaic,writer:${A},gen:1,seq:1`]);
    restic.calls.length = 0;
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(restic.calls).toEqual([`backup mosaic,writer:${A},gen:1,seq:2`, 'forget --prune #2']);
    // Where the ids cannot be read without restic (another backend), restic lists before each.
    restic.store.readable = false;
    restic.calls.length = 0;
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(restic.calls).toEqual(['snapshots', `backup mosaic,writer:${A},gen:1,seq:3`, 'snapshots', 'forget --prune #3']);
  });

  it("reads the snapshots another device stored from their files, without restic; restic lists when a file cannot be read so", async () => {
    restic.store.filesReadable = true;
    const writer = service({}, { restic: new FakeRestic(restic.store) });
    const replication = service();
    const dirA = await seed(writer, A, { 'a.txt': 'one' });
    const listings = async (source: string) => (await metricValue(metrics.registry, 'mosaic_storage_replica_listings_total', { source })) ?? 0;
    const storedIds = () => restic.stored(replicaUrl()).map((snapshot) => snapshot.id);
    // A first look: every snapshot is new to this device, each read from its file.
    await expect(replication.writerOf(target(B))).resolves.toEqual({ writer: A, isWriter: false, contested: false, generation: 1 });
    expect(restic.calls).toEqual([]);
    expect(restic.store.fileReads.sort()).toEqual(storedIds().sort());

    writeFileSync(join(dirA, 'a.txt'), 'two');
    await writer.snapshot(target(A), dirA);
    await writer.settle('vol1');
    restic.store.fileReads.length = 0;
    await expect(replication.writerOf(target(B))).resolves.toMatchObject({ writer: A, generation: 1 });
    // Only the snapshot it did not know is read; still no restic.
    expect(restic.store.fileReads).toEqual([storedIds().at(-1)]);
    expect(restic.calls).toEqual([]);
    expect(await listings('store')).toBe(2);

    // A file that cannot be read so (gone meanwhile, torn, another store): restic lists, as before.
    restic.store.filesReadable = false;
    await writer.snapshot(target(A), dirA);
    await writer.settle('vol1');
    await expect(replication.writerOf(target(B))).resolves.toMatchObject({ writer: A, generation: 1 });
    expect(restic.calls).toEqual(['snapshots']);
    expect(await listings('restic')).toBe(1);
  });

  it('prunes at most once per RETENTION_PRUNE_INTERVAL_S', async () => {
    const replication = service({ RETENTION_KEEP_LAST: '1', RETENTION_KEEP_DAILY: '0', RETENTION_PRUNE_INTERVAL_S: '3600' });
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    for (let i = 0; i < 3; i++) await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    // The one prune ran after the first snapshot, when there was nothing beyond keep-last 1 yet.
    expect(restic.calls.filter((c) => c.startsWith('forget'))).toEqual([]);
    expect(storedData()).toHaveLength(3);
  });

  it('does not prune for a device that no longer writes the replica', async () => {
    const replication = service({ RETENTION_KEEP_LAST: '1', RETENTION_KEEP_DAILY: '0', RETENTION_PRUNE_INTERVAL_S: '0' });
    const dirA = await seed(replication, A, { 'a.txt': 'v1' });
    const b = service({}, { restic: new FakeRestic(restic.store) });
    // B claims between A's writer check and the end of A's snapshot: A's prune then finds an id it does not know.
    restic.hooks.backup = async () => void (await b.prepare(target(B), dataDir('b'), { failover: true }));
    await replication.snapshot(target(A), dirA);
    await replication.settle('vol1');
    expect(restic.calls.filter((c) => c.startsWith('forget'))).toEqual([]);
    expect(storedData()).toHaveLength(2);
  });

  it('joins requests made while a snapshot waits, and never runs two restic operations at once', async () => {
    const replication = service({ RETENTION_PRUNE_INTERVAL_S: '0' });
    const dir = await seed(replication, A, {});
    restic.calls.length = 0;
    let release!: () => void;
    restic.hooks.backup = () => new Promise<void>((resolve) => (release = resolve));
    const running = replication.snapshot(target(), dir);
    await new Promise((r) => setImmediate(r));
    const second = replication.snapshot(target(), dir);
    const third = replication.snapshot(target(), dir);
    expect(third).toBe(second);
    release();
    await Promise.all([running, second, third]);
    await replication.settle('vol1');
    expect(restic.calls.filter((c) => c.startsWith('backup'))).toHaveLength(2);
  });

  it('at shutdown waits for the running snapshot and skips the prune it queued', async () => {
    const replication = service({ RETENTION_PRUNE_INTERVAL_S: '0' });
    const dir = await seed(replication, A, {});
    restic.calls.length = 0;
    let release!: () => void;
    restic.hooks.backup = () => new Promise<void>((resolve) => (release = resolve));
    const snapshot = replication.snapshot(target(), dir);
    await new Promise((r) => setImmediate(r));
    let stopped = false;
    const shutdown = replication.beforeApplicationShutdown().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await shutdown;
    await expect(snapshot).resolves.toEqual({ at: '2026-11-25T12:00:00.000Z' });
    // No prune after the backup.
    expect(restic.calls).toEqual([`backup mosaic,writer:${A},gen:1,seq:2`]);
  });

  it('starts only with restic 0.17 or newer, and says which restic is too old', async () => {
    const replication = service();
    await expect(replication.onModuleInit()).resolves.toBeUndefined();
    restic.resticVersion = '0.14.0';
    await expect(replication.onModuleInit()).rejects.toThrow(new UnsupportedToolError('restic 0.14.0 (restic) is too old: the storage plugin needs restic 0.17 or newer'));
  });

  it('removes stale locks and tries again when the repository is locked', async () => {
    restic.store.readable = false;
    const replication = service();
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    restic.calls.length = 0;
    restic.hooks.snapshots = async () => {
      throw new ResticError('locked', 'repository is already locked by PID 4242');
    };
    await replication.snapshot(target(), dir);
    expect(restic.calls.slice(0, 4)).toEqual(['snapshots', 'unlock', 'snapshots', `backup mosaic-claim,writer:${A},gen:1`]);
  });

  it('tells who writes a replica: nobody for a missing one, the holder after a failover claimed it', async () => {
    const a = service();
    const b = service({}, { restic: new FakeRestic(restic.store) });
    await expect(a.writerOf(target(A))).resolves.toEqual({ writer: null, isWriter: true, contested: false, generation: 0 });
    await seed(a, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    // Nothing in the store but what this device stored: answered without restic, as often as asked.
    await expect(a.writerOf(target(A))).resolves.toEqual({ writer: A, isWriter: true, contested: false, generation: 1 });
    await expect(a.writerOf(target(A))).resolves.toEqual({ writer: A, isWriter: true, contested: false, generation: 1 });
    expect(restic.calls).toEqual([]);
    // Another device's claim is an id this one does not know: restic lists, and the answer is the new writer.
    await b.prepare(target(B), dataDir('b'), { failover: true });
    await expect(a.writerOf(target(A))).resolves.toEqual({ writer: B, isWriter: false, contested: false, generation: 2 });
    expect(restic.calls).toEqual(['snapshots']);
    // A snapshot forgotten by another device (its prune) is an id gone: restic lists again.
    restic.store.repos.get(replicaUrl())!.snapshots.shift();
    await expect(a.writerOf(target(A))).resolves.toMatchObject({ writer: B, isWriter: false });
    expect(restic.calls).toEqual(['snapshots', 'snapshots']);
    await expect(a.writerOf(target(A))).resolves.toMatchObject({ writer: B, isWriter: false });
    expect(restic.calls).toEqual(['snapshots', 'snapshots']);
    registered = false;
    await expect(a.writerOf(target(A))).rejects.toMatchObject({ code: ErrorCode.KEYS_MISSING });
  });

  it('deletes a replica only for its writer', async () => {
    const replication = service({ REPLICA_URL: 'rest:http://127.0.0.1:1' });
    await seed(replication, A, { 'a.txt': 'a' });
    await expect(replication.destroy(target(B))).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    await replication.destroy(target(A));
    expect(restic.calls).toContain('forget --prune #1,#2');
    expect(restic.repos.get('rest:http://127.0.0.1:1/vol1')?.snapshots).toEqual([]);
  });

  /** A promise the test opens when it decides. */
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  }

  function storedData(): Array<{ id: string; content: string | undefined; tags: string[] }> {
    return restic
      .stored(replicaUrl())
      .filter((snapshot) => snapshot.tags.includes('mosaic'))
      .map((snapshot) => ({ id: snapshot.id, content: snapshot.files['data/a.txt'], tags: snapshot.tags }));
  }

  describe('two devices whose clocks disagree by hours', () => {
    const C = 'cccccccc-0000-4000-8000-000000000003';
    const AHEAD = '2026-11-25T15:00:00.000Z';
    const BEHIND = '2026-11-25T12:00:00.000Z';
    const PRUNE_EVERY_TIME = { RETENTION_KEEP_LAST: '1', RETENTION_KEEP_DAILY: '0', RETENTION_PRUNE_INTERVAL_S: '0' };

    it('makes a claimer whose clock is behind the writer: its snapshots are accepted and restored, the old writer is refused', async () => {
      const a = service({}, { now: AHEAD });
      const b = service({}, { restic: new FakeRestic(restic.store), now: BEHIND });
      const dirA = await seed(a, A, { 'a.txt': 'from A' });
      const dirB = dataDir('b');
      expect(await b.prepare(target(B), dirB, { failover: true })).toMatchObject({ isWriter: true, replicaWriter: B });
      expect(readFileSync(join(dirB, 'a.txt'), 'utf8')).toBe('from A');

      writeFileSync(join(dirB, 'a.txt'), 'from B');
      await expect(b.snapshot(target(B), dirB)).resolves.toEqual({ at: BEHIND });
      await expect(a.snapshot(target(A), dirA)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER, details: { writer: B } });

      const dirC = dataDir('c');
      expect(await b.prepare(target(B), dirC, { failover: false })).toMatchObject({ isWriter: true, snapshotAt: BEHIND });
      expect(readFileSync(join(dirC, 'a.txt'), 'utf8')).toBe('from B');
    });

    it("never restores the old writer's late snapshot (checked before the claim, stored after it), and prunes it", async () => {
      const a = service(PRUNE_EVERY_TIME, { now: AHEAD });
      const b = service(PRUNE_EVERY_TIME, { restic: new FakeRestic(restic.store), now: BEHIND });
      const dirA = await seed(a, A, { 'a.txt': 'v1' });
      writeFileSync(join(dirA, 'a.txt'), 'v2, late');
      const dirB = dataDir('b');
      let claimed: unknown;
      // A's writer check passes; B claims before A's backup is stored.
      restic.hooks.backup = async () => {
        claimed = await b.prepare(target(B), dirB, { failover: true });
      };
      await a.snapshot(target(A), dirA);
      await a.settle('vol1');
      expect(claimed).toMatchObject({ isWriter: true, replicaWriter: B });
      expect(readFileSync(join(dirB, 'a.txt'), 'utf8')).toBe('v1');
      expect(storedData().map((s) => s.content)).toEqual(['v1', 'v2, late']);

      // Until B has data of its own, a restore takes what B took over from, not the late snapshot.
      const dirC = dataDir('c');
      await b.prepare(target(B), dirC, { failover: false });
      expect(readFileSync(join(dirC, 'a.txt'), 'utf8')).toBe('v1');
      await expect(a.snapshot(target(A), dirA)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });

      // B's first snapshot; keep-last 1 keeps it and forgets A's two, though the late one is hours newer by time.
      writeFileSync(join(dirB, 'a.txt'), 'v3, from B');
      await b.snapshot(target(B), dirB);
      await b.settle('vol1');
      expect(storedData().map((s) => s.content)).toEqual(['v3, from B']);
      const dirD = dataDir('d');
      await a.prepare(target(A), dirD, { failover: false });
      expect(readFileSync(join(dirD, 'a.txt'), 'utf8')).toBe('v3, from B');
    });

    it('resolves two claims at once that saw each other: both withdraw, one claims again and is the only writer', async () => {
      const x = service({}, { now: AHEAD });
      await seed(x, A, { 'a.txt': 'from A' });
      const resticB = new FakeRestic(restic.store);
      const resticC = new FakeRestic(restic.store);
      const bDone = gate();
      const b = service({}, { restic: resticB, now: BEHIND });
      const c = service({}, { restic: resticC, now: BEHIND, wait: () => bDone.promise });
      // B lists, C lists, both claims are stored, then both list again: each sees the other's claim.
      const cListed = gate();
      const bClaimed = gate();
      const cClaimed = gate();
      resticB.hooks.backup = async () => {
        await cListed.promise;
        // B's second listing waits for C's claim.
        resticB.hooks.snapshots = async () => {
          bClaimed.open();
          await cClaimed.promise;
        };
      };
      resticC.hooks.backup = async () => {
        cListed.open();
        // C's second listing waits for B's claim.
        resticC.hooks.snapshots = async () => {
          cClaimed.open();
          await bClaimed.promise;
        };
      };

      const results = await Promise.allSettled([
        b.prepare(target(B), dataDir('b'), { failover: true }).finally(() => bDone.open()),
        c.prepare(target(C), dataDir('c'), { failover: true }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(won[0]).toMatchObject({ value: { isWriter: true } });
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ reason: { code: ErrorCode.STORAGE_UNAVAILABLE } });
      const winner = results[0].status === 'fulfilled' ? { id: B, service: b, label: 'b' } : { id: C, service: c, label: 'c' };
      const loser = winner.id === B ? { id: C, service: c, label: 'c' } : { id: B, service: b, label: 'b' };
      // Both withdrew their first claims: one claim of the top generation is left, the winner's.
      const claims = restic.stored(replicaUrl()).filter((s) => s.tags.includes('mosaic-claim'));
      const top = Math.max(...claims.map((s) => Number(s.tags.find((t) => t.startsWith('gen:'))?.slice(4))));
      expect(claims.filter((s) => s.tags.includes(`gen:${top}`)).map((s) => s.tags.find((t) => t.startsWith('writer:')))).toEqual([
        `writer:${winner.id}`,
      ]);
      await expect(winner.service.snapshot(target(winner.id), dataDir(winner.label))).resolves.toEqual({ at: BEHIND });
      await expect(loser.service.snapshot(target(loser.id), dataDir(loser.label))).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
      await expect(x.snapshot(target(A), dataDir(`seed-${A}`))).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    });

    /**
     * A's replica; B and C fail over at once. B lists, C lists, B claims and lists again (alone:
     * B writes); C's claim is stored once the test opens `cMayClaim`.
     */
    async function rivalsWhereBSawItselfAlone() {
      await seed(service({}, { now: AHEAD }), A, { 'a.txt': 'from A' });
      const resticC = new FakeRestic(restic.store);
      const resticB = new FakeRestic(restic.store);
      const b = service({}, { restic: resticB, now: BEHIND });
      const c = service({}, { restic: resticC, now: BEHIND });
      const cListed = gate();
      const cMayClaim = gate();
      resticB.hooks.backup = () => cListed.promise;
      resticC.hooks.backup = async () => {
        cListed.open();
        await cMayClaim.promise;
      };
      return { b, c, resticC, dirB: dataDir('b'), dirC: dataDir('c'), cMayClaim };
    }

    it('keeps the claim that saw itself alone: a rival stored after it sees it, withdraws and gives up', async () => {
      const { b, c, resticC, dirB, dirC, cMayClaim } = await rivalsWhereBSawItselfAlone();
      const takenByC = c.prepare(target(C), dirC, { failover: true });
      expect(await b.prepare(target(B), dirB, { failover: true })).toMatchObject({ isWriter: true, replicaWriter: B });
      // While C's claim stands beside B's, every other device is refused for a while (retryable), and B may write:
      // it knows it saw itself alone, and its data settles the contest.
      resticC.hooks.forget = async () => {
        const x = service({}, { restic: new FakeRestic(restic.store) });
        await expect(x.snapshot(target(A), dataDir(`seed-${A}`))).rejects.toMatchObject({ code: ErrorCode.REPLICATION_FAILED });
        await expect(b.snapshot(target(B), dirB)).resolves.toEqual({ at: BEHIND });
      };
      cMayClaim.open();
      await expect(takenByC).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, message: expect.stringContaining(B) });
      expect(resticC.calls.filter((call) => call.startsWith('forget'))).toHaveLength(1);
      expect(restic.stored(replicaUrl()).filter((s) => s.tags.includes(`writer:${C}`))).toEqual([]);
      await expect(b.snapshot(target(B), dirB)).resolves.toEqual({ at: BEHIND });
      await expect(c.snapshot(target(C), dirC)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER, details: { writer: B } });
    });

    it('lets the claim that saw itself alone write even when the rival cannot withdraw its claim', async () => {
      const { b, c, resticC, dirB, dirC, cMayClaim } = await rivalsWhereBSawItselfAlone();
      // C's withdrawal fails (the store stops answering, or B's long restore holds its lock).
      resticC.hooks.forget = async () => {
        throw new ResticError('unreachable', 'restic forget: the replica store did not answer for 30 s');
      };
      const takenByC = c.prepare(target(C), dirC, { failover: true });
      expect(await b.prepare(target(B), dirB, { failover: true })).toMatchObject({ isWriter: true });
      cMayClaim.open();
      await expect(takenByC).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, message: expect.stringMatching(/withdraw/) });
      expect(restic.stored(replicaUrl()).filter((s) => s.tags.includes(`writer:${C}`))).toHaveLength(1);

      writeFileSync(join(dirB, 'a.txt'), 'from B');
      await expect(b.snapshot(target(B), dirB)).resolves.toEqual({ at: BEHIND });
      // Settled for everyone: B wrote data in the generation, C did not.
      const d = service({}, { restic: new FakeRestic(restic.store) });
      const dirD = dataDir('d');
      expect(await d.prepare(target(A), dirD, { failover: false })).toMatchObject({ isWriter: false, replicaWriter: B });
      expect(readFileSync(join(dirD, 'a.txt'), 'utf8')).toBe('from B');
      await expect(c.snapshot(target(C), dirC)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER, details: { writer: B } });
    });
  });

  describe('a replica written before generations existed', () => {
    async function legacyReplica(): Promise<{ legacy: string }> {
      const repo = { url: replicaUrl(), password: replicaPassword(SECRET, 'vol1') };
      const dir = dataDir('old-plugin');
      mkdirSync(dir);
      writeFileSync(join(dir, 'a.txt'), 'legacy');
      await restic.init(repo);
      const { snapshotId: legacy } = await restic.backup(repo, dir, ['mosaic', `writer:${A}`], 'mosaic', new Date('2026-11-25T18:00:00.000Z'));
      restic.calls.length = 0;
      return { legacy };
    }

    it('is migrated by its writer at the next snapshot: a claim of generation 1 first, then the data', async () => {
      const replication = service();
      const { legacy } = await legacyReplica();
      const dir = dataDir('a');
      expect(await replication.prepare(target(A), dir, { failover: false })).toMatchObject({ isWriter: true, replicaWriter: A });
      writeFileSync(join(dir, 'a.txt'), 'new');
      await replication.snapshot(target(A), dir);
      // Listed once; after that the store holds only what this device knows and stores.
      expect(restic.calls).toEqual(['snapshots', 'restore #1', `backup mosaic-claim,writer:${A},gen:1,base:${legacy}`, `backup mosaic,writer:${A},gen:1,seq:1`]);
    });

    it('is claimed as generation 1 by a failover, from its newest data, whatever the clocks say', async () => {
      service();
      await legacyReplica();
      const b = service({}, { restic: new FakeRestic(restic.store), now: '2026-11-25T09:00:00.000Z' });
      const dir = dataDir('b');
      expect(await b.prepare(target(B), dir, { failover: true })).toMatchObject({ isWriter: true, replicaWriter: B });
      expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('legacy');
      await expect(service().snapshot(target(A), dataDir('a'))).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    });
  });
});
