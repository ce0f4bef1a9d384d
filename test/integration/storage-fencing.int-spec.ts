import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, replicaPassword } from '@mosaic/protocol';
import { Clock } from '../../apps/storage-plugin/src/common/clock';
import { FilesAdapter } from '../../apps/storage-plugin/src/common/files.adapter';
import { KeyRegistry } from '../../apps/storage-plugin/src/keys/key-registry.service';
import { OpenPgpKeyAdapter } from '../../apps/storage-plugin/src/keys/openpgp-key.adapter';
import { PluginMetrics } from '../../apps/storage-plugin/src/metrics/plugin-metrics';
import { ReplicaTarget, ReplicationService } from '../../apps/storage-plugin/src/replication/replication.service';
import { Repository, ResticAdapter } from '../../apps/storage-plugin/src/replication/restic.adapter';
import { KeyStoreAdapter } from '../../apps/storage-plugin/src/replication/key-store.adapter';
import { ReplicaKeysService } from '../../apps/storage-plugin/src/replication/replica-keys.service';
import { SnapshotFilesService } from '../../apps/storage-plugin/src/replication/snapshot-files.service';
import { SnapshotIdsAdapter } from '../../apps/storage-plugin/src/replication/snapshot-ids.adapter';
import { SnapshotInfo } from '../../apps/storage-plugin/src/replication/writer-rule';
import { TestKey, generateKey, pluginConfig, pluginRoot, randomName } from '../support/storage-plugin';

jest.setTimeout(180_000);

const HOUR = 3600_000;

/** A device's clock, set hours off the machine's: restic records it (`backup --time`). */
class SkewedClock extends Clock {
  constructor(private readonly offsetMs: number) {
    super();
  }

  override now(): Date {
    return new Date(super.now().getTime() + this.offsetMs);
  }
}

/** The real restic, with a hook a test sets to hold the next backup back (to order two devices' steps). */
class HeldRestic extends ResticAdapter {
  beforeNextBackup?: () => Promise<void>;

  override async backup(repo: Repository, dir: string, tags: string[], host: string, time: Date): Promise<{ snapshotId: string; dataAdded: number }> {
    const hook = this.beforeNextBackup;
    this.beforeNextBackup = undefined;
    await hook?.();
    return super.backup(repo, dir, tags, host, time);
  }
}

interface Device {
  id: string;
  replication: ReplicationService;
  restic: HeldRestic;
  /** This device's data folder for the volume. */
  dir: string;
}

/**
 * Writer fencing over one real restic repository, by two or three devices (each a
 * ReplicationService with its own restic, key registry and clock) whose clocks are hours apart.
 */
describe('writer fencing: devices whose clocks are hours apart, over one real restic replica', () => {
  beforeAll(() => Logger.overrideLogger(['error']));
  afterAll(() => Logger.overrideLogger(true));

  const root = pluginRoot('fence');
  const replicas = join(root.path, 'replicas');
  let key: TestKey;
  let secret: Buffer;
  let devices = 0;

  beforeAll(async () => {
    key = await generateKey();
    const keys = new KeyRegistry(new OpenPgpKeyAdapter());
    await keys.register(key.fingerprint, key.privateKey);
    secret = Buffer.from(keys.secretFor(key.fingerprint)!);
  });

  afterAll(() => root.remove());

  async function device(volume: string, offsetHours: number, overrides: Record<string, string> = {}): Promise<Device> {
    const label = `d${++devices}`;
    const config = pluginConfig(join(root.path, label), { REPLICA_URL: replicas, ...overrides });
    const keys = new KeyRegistry(new OpenPgpKeyAdapter());
    await keys.register(key.fingerprint, key.privateKey);
    const restic = new HeldRestic(config);
    const ids = new SnapshotIdsAdapter(config);
    const replicaKeys = new ReplicaKeysService(new KeyStoreAdapter(config), restic, new Clock());
    const replication = new ReplicationService(config, restic, keys, new FilesAdapter(), new SkewedClock(offsetHours * HOUR), new PluginMetrics(), ids, replicaKeys, new SnapshotFilesService(ids, replicaKeys));
    const dir = join(config.dataDir, 'volumes', volume, 'data');
    mkdirSync(dirname(dir), { recursive: true });
    return { id: randomUUID(), replication, restic, dir };
  }

  function target(volume: string, d: Device): ReplicaTarget {
    return { name: volume, fingerprint: key.fingerprint, writer: d.id };
  }

  /** The replica's snapshots as restic lists them. */
  function listed(volume: string, d: Device): Promise<SnapshotInfo[]> {
    return d.restic.snapshots({ url: join(replicas, volume), password: replicaPassword(secret, volume) });
  }

  const content = (d: Device) => readFileSync(join(d.dir, 'file.txt'), 'utf8');
  const write = (d: Device, text: string) => writeFileSync(join(d.dir, 'file.txt'), text);
  const dataOf = (snapshots: SnapshotInfo[]) => snapshots.filter((s) => s.tags.includes('mosaic'));

  it('makes the claimer whose clock is 5 hours behind the writer: its snapshots are accepted and restored, the old writer is refused', async () => {
    const volume = randomName();
    const a = await device(volume, +3);
    const b = await device(volume, -2);
    await a.replication.prepare(target(volume, a), a.dir, { failover: false });
    write(a, 'from A');
    await a.replication.snapshot(target(volume, a), a.dir);

    expect(await b.replication.prepare(target(volume, b), b.dir, { failover: true })).toMatchObject({
      isWriter: true,
      replicaWriter: b.id,
    });
    expect(content(b)).toBe('from A');
    write(b, 'from B');
    const { at } = await b.replication.snapshot(target(volume, b), b.dir);
    await expect(a.replication.snapshot(target(volume, a), a.dir)).rejects.toMatchObject({
      code: ErrorCode.NOT_WRITER,
      details: { writer: b.id },
    });

    // restic recorded each device's own clock: B's snapshot is hours "older" than A's.
    const [fromA] = dataOf(await listed(volume, a)).filter((s) => s.tags.includes(`writer:${a.id}`));
    expect(Date.parse(fromA.time) - Date.parse(at)).toBeGreaterThan(4.9 * HOUR);

    const c = await device(volume, 0);
    expect(await c.replication.prepare(target(volume, c), c.dir, { failover: false })).toMatchObject({
      isWriter: false,
      replicaWriter: b.id,
    });
    expect(content(c)).toBe('from B');
  });

  it("never restores the old writer's late snapshot, and keep-last 1 keeps the current generation's newest though the late one is hours later", async () => {
    const volume = randomName();
    const everyTime = { RETENTION_KEEP_LAST: '1', RETENTION_KEEP_DAILY: '0', RETENTION_PRUNE_INTERVAL_S: '0' };
    const a = await device(volume, +3, everyTime);
    const b = await device(volume, -2, everyTime);
    await a.replication.prepare(target(volume, a), a.dir, { failover: false });
    write(a, 'v1');
    await a.replication.snapshot(target(volume, a), a.dir);

    // A's writer check passes, then B claims (and restores) before A's backup is stored: a late snapshot.
    write(a, 'v2, late');
    a.restic.beforeNextBackup = async () => {
      await b.replication.prepare(target(volume, b), b.dir, { failover: true });
    };
    await a.replication.snapshot(target(volume, a), a.dir);
    await a.replication.settle(volume);
    expect(content(b)).toBe('v1');
    const fromA = dataOf(await listed(volume, a)).filter((s) => s.tags.includes(`writer:${a.id}`));
    expect(fromA).toHaveLength(2);
    const late = fromA.sort((x, y) => Date.parse(y.time) - Date.parse(x.time))[0];

    const c = await device(volume, 0);
    await c.replication.prepare(target(volume, c), c.dir, { failover: false });
    expect(content(c)).toBe('v1');

    write(b, 'v3, from B');
    const { at } = await b.replication.snapshot(target(volume, b), b.dir);
    await b.replication.settle(volume);
    expect(Date.parse(late.time) - Date.parse(at)).toBeGreaterThan(4.9 * HOUR);
    const kept = dataOf(await listed(volume, b));
    expect(kept).toHaveLength(1);
    expect(kept[0].tags).toContain(`writer:${b.id}`);
    expect(new Date(kept[0].time).toISOString()).toBe(at);

    const d = await device(volume, +5);
    await d.replication.prepare(target(volume, d), d.dir, { failover: false });
    expect(content(d)).toBe('v3, from B');
  });

  it('resolves two claims at once (both listed before either was stored): exactly one device is the writer', async () => {
    const volume = randomName();
    const a = await device(volume, +3);
    await a.replication.prepare(target(volume, a), a.dir, { failover: false });
    write(a, 'from A');
    await a.replication.snapshot(target(volume, a), a.dir);

    const b = await device(volume, -2);
    const c = await device(volume, -4);
    // Each claim waits until the other device has listed the snapshots (and reached its claim).
    let bReady!: () => void;
    let cReady!: () => void;
    const bListed = new Promise<void>((resolve) => (bReady = resolve));
    const cListed = new Promise<void>((resolve) => (cReady = resolve));
    b.restic.beforeNextBackup = async () => {
      bReady();
      await cListed;
    };
    c.restic.beforeNextBackup = async () => {
      cReady();
      await bListed;
    };
    const results = await Promise.allSettled([
      b.replication.prepare(target(volume, b), b.dir, { failover: true }),
      c.replication.prepare(target(volume, c), c.dir, { failover: true }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: ErrorCode.STORAGE_UNAVAILABLE } });
    const winners = [b, c].filter((_, i) => results[i].status === 'fulfilled');
    const losers = [b, c].filter((_, i) => results[i].status === 'rejected');
    const [winner] = winners;
    const [loser] = losers;
    expect(content(winner)).toBe('from A');

    write(winner, 'from the winner');
    await expect(winner.replication.snapshot(target(volume, winner), winner.dir)).resolves.toBeDefined();
    await expect(loser.replication.snapshot(target(volume, loser), loser.dir)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    await expect(a.replication.snapshot(target(volume, a), a.dir)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
    const e = await device(volume, 0);
    await e.replication.prepare(target(volume, e), e.dir, { failover: false });
    expect(content(e)).toBe('from the winner');
  });

  it('keeps a replica made before generations working: its writer migrates it, a failover with a clock behind takes it over', async () => {
    const volume = randomName();
    const a = await device(volume, +3);
    // What an older plugin wrote: tags without a generation.
    const repo = { url: join(replicas, volume), password: replicaPassword(secret, volume) };
    await a.restic.init(repo);
    mkdirSync(a.dir);
    write(a, 'legacy');
    await a.restic.backup(repo, a.dir, ['mosaic', `writer:${a.id}`], 'mosaic', new Date(Date.now() + 3 * HOUR));

    expect(await a.replication.prepare(target(volume, a), a.dir, { failover: false })).toMatchObject({ isWriter: true });
    write(a, 'migrated');
    await a.replication.snapshot(target(volume, a), a.dir);
    // As a set: the claim and the snapshot after it may fall in the same second (restic's times), and
    // restic lists snapshots of one second in no fixed order (a clean-clone CI run saw them swapped).
    const tags = (await listed(volume, a)).map((s) => s.tags.filter((t) => !t.startsWith('base:')).join(','));
    expect(tags.sort()).toEqual([`mosaic,writer:${a.id}`, `mosaic-claim,writer:${a.id},gen:1`, `mosaic,writer:${a.id},gen:1,seq:1`].sort());

    const b = await device(volume, -2);
    expect(await b.replication.prepare(target(volume, b), b.dir, { failover: true })).toMatchObject({
      isWriter: true,
      replicaWriter: b.id,
    });
    expect(content(b)).toBe('migrated');
    await expect(a.replication.snapshot(target(volume, a), a.dir)).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
  });
});
