import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, replicaPassword } from '@mosaic/protocol';
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
import { SnapshotInfo } from './writer-rule';

const SECRET = Buffer.from('secret key packet bytes');
const FINGERPRINT = 'f'.repeat(40);
const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

interface FakeSnapshot extends SnapshotInfo {
  files: Record<string, string>;
}

/**
 * restic as an in-memory repository per URL, over real directories. It fails the test if two
 * operations ever overlap on one repository, and records every call.
 */
class FakeRestic {
  readonly repos = new Map<string, { password: string; snapshots: FakeSnapshot[] }>();
  readonly calls: string[] = [];
  private readonly running = new Set<string>();
  private clock = Date.parse('2026-11-25T10:00:00.000Z');
  /** Set by a test to fail or hold the next call of a command. */
  readonly hooks: Record<string, (() => Promise<void>) | undefined> = {};
  failRestoreAfter: number | undefined = undefined;
  /** restic ≥ 0.17 records a summary (with the snapshot's size) in every snapshot it makes. */
  summaries = true;

  private async op<T>(repo: Repository, name: string, body: () => T | Promise<T>): Promise<T> {
    if (this.running.has(repo.url)) throw new Error(`two restic operations at once on ${repo.url}`);
    this.running.add(repo.url);
    this.calls.push(name);
    try {
      const hook = this.hooks[name];
      this.hooks[name] = undefined;
      if (hook) await hook();
      return await body();
    } finally {
      this.running.delete(repo.url);
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
  backup(repo: Repository, dir: string, tags: string[]): Promise<{ snapshotId: string; dataAdded: number }> {
    return this.op(repo, `backup ${tags.join(',')}`, () => {
      // Like restic here: the folder itself is the snapshot's one top-level entry, even when empty.
      const files: Record<string, string> = { [basename(dir)]: '/' };
      for (const name of readdirSync(dir)) files[join(basename(dir), name)] = readFileSync(join(dir, name), 'utf8');
      const id = `snap${this.repos.get(repo.url)!.snapshots.length + 1}`;
      this.clock += 1000;
      const size = Object.values(files).filter((c) => c !== '/').reduce((n, c) => n + c.length, 0);
      this.open(repo).snapshots.push({ id, time: new Date(this.clock).toISOString(), tags, files, ...(this.summaries ? { totalBytes: size } : {}) });
      return { snapshotId: id, dataAdded: size };
    });
  }
  restoreSize(repo: Repository, id: string): Promise<number> {
    return this.op(repo, 'stats', () =>
      Object.values(this.find(repo, id).files)
        .filter((c) => c !== '/')
        .reduce((n, c) => n + c.length, 0),
    );
  }
  restore(repo: Repository, id: string, target: string): Promise<void> {
    return this.op(repo, `restore ${id}`, () => {
      let written = 0;
      for (const [name, content] of Object.entries(this.find(repo, id).files)) {
        if (this.failRestoreAfter !== undefined && written++ >= this.failRestoreAfter) {
          throw new ResticError('no-space', `restic restore: write ${join(target, name)}: no space left on device`);
        }
        if (content === '/') mkdirSync(join(target, name), { recursive: true });
        else writeFileSync(join(target, name), content);
      }
    });
  }
  forget(repo: Repository): Promise<void> {
    return this.op(repo, 'forget', () => undefined);
  }
  forgetSnapshots(repo: Repository, ids: string[]): Promise<void> {
    return this.op(repo, `forget ${ids.join(',')}`, () => {
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

  private find(repo: Repository, id: string): FakeSnapshot {
    const found = this.open(repo).snapshots.find((s) => s.id === id);
    if (!found) throw new ResticError('other', `no snapshot ${id}`);
    return found;
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

  function service(overrides: Record<string, string> = {}): ReplicationService {
    metrics = new PluginMetrics();
    config = pluginConfig(join(root.path, `case-${cases}`), overrides);
    return new ReplicationService(
      config,
      strictFake<ResticAdapter>(restic as unknown as ResticAdapter, 'ResticAdapter'),
      strictFake<KeyRegistry>({ secretFor: () => (registered ? SECRET : undefined), has: () => registered }, 'KeyRegistry'),
      new FilesAdapter(),
      strictFake<Clock>({ now: () => new Date('2026-11-25T12:00:00.000Z') }, 'Clock'),
      metrics,
    );
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
    expect(restic.calls).toEqual(['snapshots', 'init']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('restores the newest data snapshot, with progress, and tells who writes the replica', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const progress: number[] = [];
    const dir = dataDir('b');
    const result = await replication.prepare(target(B), dir, { failover: false, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ isWriter: false, replicaWriter: A, restoredFrom: 'snap1', snapshotAt: '2026-11-25T10:00:01.000Z' });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('from A');
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(100);
    // The snapshot's size comes from its summary: no separate `restic stats`.
    expect(restic.calls).toEqual(['snapshots', 'restore snap1']);
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
    expect(restic.calls).toEqual(['snapshots', 'stats', 'restore snap1']);
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

  it('on failover claims the writer role first, then restores the newest data snapshot (not the claim)', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'from A' });
    restic.calls.length = 0;
    const dir = dataDir('b');
    const result = await replication.prepare(target(B), dir, { failover: true });
    expect(restic.calls).toEqual(['snapshots', `backup mosaic-claim,writer:${B}`, 'snapshots', 'restore snap1']);
    expect(result).toMatchObject({ isWriter: true, replicaWriter: B, restoredFrom: 'snap1' });
    expect(readdirSync(dir)).toEqual(['a.txt']);
    expect(readdirSync(dirname(dir))).toEqual(['data']);

    // From now on the old writer is refused, the new one is not.
    await expect(replication.snapshot(target(A), dataDir('seed-' + A))).rejects.toMatchObject({
      code: ErrorCode.NOT_WRITER,
      details: { writer: B },
    });
    await expect(replication.snapshot(target(B), dir)).resolves.toEqual({ at: '2026-11-25T12:00:00.000Z' });
  });

  it('does not claim again when this device already writes the replica, and keeps its newer local data', async () => {
    const replication = service();
    const dir = await seed(replication, A, { 'a.txt': 'v1' });
    writeFileSync(join(dir, 'a.txt'), 'v2, not replicated yet');
    restic.calls.length = 0;
    await replication.prepare(target(A), dir, { failover: true });
    expect(restic.calls).toEqual(['snapshots']);
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
    expect(await replication.prepare(target(A), dir, { failover: false })).toMatchObject({ restoredFrom: 'snap1' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a snapshot that does not hold the data folder, and keeps nothing', async () => {
    const replication = service();
    await seed(replication, A, { 'a.txt': 'a' });
    const stored = restic.repos.get(join(config.replicaUrl, 'vol1'))!.snapshots[0];
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
    const replication = service();
    await seed(replication, A, { 'a.txt': 'a' });
    restic.repos.get(join(config.replicaUrl, 'vol1'))!.password = 'another key';
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

  it('tags snapshots mosaic and writer:<device>, checks the writer before each, and prunes after', async () => {
    const replication = service({ RETENTION_PRUNE_INTERVAL_S: '0' });
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    restic.calls.length = 0;
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(restic.calls).toEqual(['snapshots', `backup mosaic,writer:${A}`, 'forget']);
    await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(restic.calls.filter((c) => c === 'forget')).toHaveLength(2);
  });

  it('prunes at most once per RETENTION_PRUNE_INTERVAL_S', async () => {
    const replication = service({ RETENTION_PRUNE_INTERVAL_S: '3600' });
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    for (let i = 0; i < 3; i++) await replication.snapshot(target(), dir);
    await replication.settle('vol1');
    expect(restic.calls.filter((c) => c === 'forget')).toHaveLength(1);
  });

  it('joins requests made while a snapshot waits, and never runs two restic operations at once', async () => {
    const replication = service({ RETENTION_PRUNE_INTERVAL_S: '0' });
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    restic.calls.length = 0;
    let release!: () => void;
    restic.hooks[`backup mosaic,writer:${A}`] = () => new Promise<void>((resolve) => (release = resolve));
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
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    let release!: () => void;
    restic.hooks[`backup mosaic,writer:${A}`] = () => new Promise<void>((resolve) => (release = resolve));
    const snapshot = replication.snapshot(target(), dir);
    await new Promise((r) => setImmediate(r));
    let stopped = false;
    const shutdown = replication.beforeApplicationShutdown().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await shutdown;
    await expect(snapshot).resolves.toEqual({ at: '2026-11-25T12:00:00.000Z' });
    expect(restic.calls).not.toContain('forget');
  });

  it('starts only with restic 0.17 or newer, and says which restic is too old', async () => {
    const replication = service();
    await expect(replication.onModuleInit()).resolves.toBeUndefined();
    restic.resticVersion = '0.14.0';
    await expect(replication.onModuleInit()).rejects.toThrow(new UnsupportedToolError('restic 0.14.0 (restic) is too old: the storage plugin needs restic 0.17 or newer'));
  });

  it('removes stale locks and tries again when the repository is locked', async () => {
    const replication = service();
    const dir = dataDir('a');
    await replication.prepare(target(), dir, { failover: false });
    restic.calls.length = 0;
    restic.hooks.snapshots = async () => {
      throw new ResticError('locked', 'repository is already locked by PID 4242');
    };
    await replication.snapshot(target(), dir);
    expect(restic.calls.slice(0, 4)).toEqual(['snapshots', 'unlock', 'snapshots', `backup mosaic,writer:${A}`]);
  });

  it('deletes a replica only for its writer', async () => {
    const replication = service({ REPLICA_URL: 'rest:http://127.0.0.1:1' });
    await seed(replication, A, { 'a.txt': 'a' });
    await expect(replication.destroy(target(B))).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    await replication.destroy(target(A));
    expect(restic.calls).toContain('forget snap1');
    expect(restic.repos.get('rest:http://127.0.0.1:1/vol1')?.snapshots).toEqual([]);
  });
});
