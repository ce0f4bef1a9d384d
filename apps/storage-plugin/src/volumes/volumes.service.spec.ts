import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { strictFake } from '../../../../test/support/strict-fake';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { Clock } from '../common/clock';
import { FilesAdapter } from '../common/files.adapter';
import { PluginConfig } from '../config/plugin-config';
import { KeyRegistry } from '../keys/key-registry.service';
import { ReplicationScheduler } from '../replication/replication-scheduler.service';
import { PrepareOptions, PrepareResult, ReplicaTarget, ReplicaWriter, ReplicationService } from '../replication/replication.service';
import { VolumeStateStore } from './volume-state.store';
import { CreateVolumeRequest, VolumesService } from './volumes.service';

const FINGERPRINT = 'c'.repeat(40);
const DEVICE = '11111111-2222-4333-8444-555555555555';

/** The replica side, scripted by each test; records what it was asked. */
class FakeReplication {
  readonly snapshots: string[] = [];
  readonly prepared: Array<{ target: ReplicaTarget; failover: boolean }> = [];
  prepareResult: PrepareResult | Error = { isWriter: true, replicaWriter: null, restoredFrom: null, snapshotAt: null };
  snapshotResult: () => Promise<{ at: string }> = async () => ({ at: '2026-11-25T10:00:00.000Z' });

  async prepare(target: ReplicaTarget, dataDir: string, options: PrepareOptions): Promise<PrepareResult> {
    this.prepared.push({ target, failover: options.failover });
    mkdirSync(dataDir, { recursive: true });
    if (this.prepareResult instanceof Error) throw this.prepareResult;
    return this.prepareResult;
  }
  snapshot(target: ReplicaTarget): Promise<{ at: string }> {
    this.snapshots.push(target.name);
    return this.snapshotResult();
  }
  writerResult: ReplicaWriter = { writer: DEVICE, isWriter: true, contested: false, generation: 1 };
  async writerOf(): Promise<ReplicaWriter> {
    return this.writerResult;
  }
  async settle(): Promise<void> {}
  async destroy(target: ReplicaTarget): Promise<void> {
    this.snapshots.push(`destroy ${target.name}`);
  }
}

class FakeScheduler {
  readonly retries: string[] = [];
  readonly resets: string[] = [];
  startPeriodic(_tick: () => void): void {}
  retryLater(name: string): number {
    this.retries.push(name);
    return 1000;
  }
  reset(name: string): void {
    this.resets.push(name);
  }
}

/** Lets the background work started by a call (a promise chain) run to its end. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('VolumesService', () => {
  // The failures these tests provoke are logged as warnings; they are asserted, not shown.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  const root = pluginRoot('volumes');
  let config: PluginConfig;
  let replication: FakeReplication;
  let scheduler: FakeScheduler;
  let registered: Set<string>;

  function service(): VolumesService {
    const volumes = new VolumesService(
      config,
      new VolumeStateStore(config),
      new FilesAdapter(),
      strictFake<KeyRegistry>({ has: (f: string) => registered.has(f) }, 'KeyRegistry'),
      strictFake<ReplicationService>(replication as unknown as ReplicationService, 'ReplicationService'),
      strictFake<ReplicationScheduler>(scheduler as unknown as ReplicationScheduler, 'ReplicationScheduler'),
      strictFake<Clock>({ now: () => new Date('2026-11-25T09:00:00.000Z') }, 'Clock'),
    );
    volumes.onModuleInit();
    return volumes;
  }

  function request(name: string, extra: Partial<CreateVolumeRequest> = {}): CreateVolumeRequest {
    return { name, instance: '3f0e8c1a-8a3b-4c5d-9e6f-0a1b2c3d4e5f', role: 'app', fingerprint: FINGERPRINT, writer: DEVICE, ...extra };
  }

  let dirs = 0;
  beforeEach(() => {
    config = pluginConfig(join(root.path, `case-${++dirs}`));
    replication = new FakeReplication();
    scheduler = new FakeScheduler();
    registered = new Set([FINGERPRINT]);
  });

  afterAll(() => root.remove());

  describe('writer()', () => {
    const OTHER = '99999999-2222-4333-8444-555555555555';

    it('answers who writes the replica now, and records a volume found fenced as a refused snapshot would', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await expect(volumes.writer('v1')).resolves.toEqual({ name: 'v1', writer: DEVICE, isWriter: true, contested: false, generation: 1 });
      expect((await volumes.view('v1')).isWriter).toBe(true);
      replication.writerResult = { writer: OTHER, isWriter: false, contested: false, generation: 2 };
      await expect(volumes.writer('v1')).resolves.toMatchObject({ writer: OTHER, isWriter: false });
      expect(await volumes.view('v1')).toMatchObject({ isWriter: false, replication: { state: 'error', code: ErrorCode.NOT_WRITER } });
      // Remembered across a restart of the plugin.
      expect((await service().view('v1')).isWriter).toBe(false);
    });

    it('refuses an unknown volume with NOT_FOUND', async () => {
      await expect(service().writer('nope')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    });
  });

  describe('mount counting', () => {
    it('counts mounts per mount ID, and only the last unmount replicates', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.mount('v1', 'c1');
      await volumes.mount('v1', 'c1');
      await volumes.mount('v1', 'c2');
      expect((await volumes.view('v1')).mounts).toBe(3);

      volumes.unmount('v1', 'c1');
      volumes.unmount('v1', 'c2');
      await settle();
      expect(replication.snapshots).toEqual([]);
      expect((await volumes.view('v1')).mounts).toBe(1);

      volumes.unmount('v1', 'c1');
      await settle();
      expect(replication.snapshots).toEqual(['v1']);
      expect(await volumes.view('v1')).toMatchObject({
        mounts: 0,
        lastReplicatedAt: '2026-11-25T10:00:00.000Z',
        replication: { state: 'idle' },
      });
    });

    it('ignores the unmount of an ID that never mounted, without replicating', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.mount('v1', 'c1');
      volumes.unmount('v1', 'stranger');
      await settle();
      expect((await volumes.view('v1')).mounts).toBe(1);
      expect(replication.snapshots).toEqual([]);
    });

    it('keeps mounts across a restart', async () => {
      const first = service();
      await first.create(request('v1'));
      await first.mount('v1', 'c1');
      const second = service();
      expect((await second.view('v1')).mounts).toBe(1);
      second.unmount('v1', 'c1');
      await settle();
      expect(replication.snapshots).toEqual(['v1']);
    });

    it('the periodic tick replicates the mounted volumes this device writes, and only those', async () => {
      let tick!: () => void;
      scheduler.startPeriodic = (fn: () => void) => void (tick = fn);
      replication.prepareResult = { isWriter: true, replicaWriter: null, restoredFrom: null, snapshotAt: null };
      const volumes = service();
      volumes.onApplicationBootstrap();
      await volumes.create(request('mounted'));
      await volumes.create(request('idle'));
      replication.prepareResult = { isWriter: false, replicaWriter: 'other', restoredFrom: 'x', snapshotAt: null };
      await volumes.create(request('elsewhere'));
      await volumes.mount('mounted', 'c1');
      await volumes.mount('elsewhere', 'c2');
      tick();
      await settle();
      expect(replication.snapshots).toEqual(['mounted']);
    });

    it('refuses to mount a volume whose data directory is gone', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await new FilesAdapter().removeTree(volumes.mountpoint('v1'));
      await expect(volumes.mount('v1', 'c1')).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE });
    });

    it.each([
      ['its data directory', (v: VolumesService) => v.mountpoint('v1')],
      ['its volume folder', (v: VolumesService) => v.volumeDir('v1')],
    ])('refuses to mount a volume when %s became a symlink (Docker would mount where it leads)', async (_label, path) => {
      const volumes = service();
      await volumes.create(request('v1'));
      const elsewhere = mkdtempSync(join(tmpdir(), 'mosaic-elsewhere-'));
      try {
        renameSync(path(volumes), join(elsewhere, 'moved'));
        symlinkSync(join(elsewhere, 'moved'), path(volumes));
        await expect(volumes.mount('v1', 'c1')).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, message: expect.stringContaining('not a folder') });
        expect(volumes.record('v1').mounts).toEqual({});
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });
  });

  describe('create', () => {
    it('needs the key registered and leaves nothing behind without it', async () => {
      registered.clear();
      const volumes = service();
      await expect(volumes.create(request('v1'))).rejects.toMatchObject({ code: ErrorCode.KEYS_MISSING });
      expect(existsSync(volumes.volumeDir('v1'))).toBe(false);
      expect(replication.prepared).toEqual([]);
    });

    it('removes the half-made volume directory when the restore fails', async () => {
      replication.prepareResult = new ProtocolException(ErrorCode.RESTORE_FAILED, 'The disk filled up.');
      const volumes = service();
      await expect(volumes.create(request('v1'))).rejects.toMatchObject({ code: ErrorCode.RESTORE_FAILED });
      expect(existsSync(volumes.volumeDir('v1'))).toBe(false);
      expect(volumes.count()).toBe(0);
    });

    it('is idempotent for the same volume, refuses another identity, and replaces on failover', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.create(request('v1'));
      expect(replication.prepared).toHaveLength(1);
      await expect(volumes.create(request('v1', { fingerprint: 'd'.repeat(40) }))).rejects.toMatchObject({
        code: ErrorCode.INVALID_PARAMS,
      });

      const other = '99999999-2222-4333-8444-555555555555';
      replication.prepareResult = { isWriter: true, replicaWriter: other, restoredFrom: 'abc', snapshotAt: '2026-11-25T08:00:00.000Z' };
      const taken = await volumes.create(request('v1', { writer: other, failover: true }));
      expect(replication.prepared[1]).toEqual({ target: { name: 'v1', fingerprint: FINGERPRINT, writer: other }, failover: true });
      expect(taken).toMatchObject({ writer: other, isWriter: true, lastReplicatedAt: '2026-11-25T08:00:00.000Z' });
    });

    it('records a volume restored from a replica another device writes as not the writer', async () => {
      replication.prepareResult = {
        isWriter: false,
        replicaWriter: 'someone-else',
        restoredFrom: 'abc',
        snapshotAt: '2026-11-25T08:00:00.000Z',
      };
      const volumes = service();
      expect(await volumes.create(request('v1'))).toMatchObject({
        isWriter: false,
        replication: { state: 'error', code: ErrorCode.NOT_WRITER },
      });
    });
  });

  describe('a replication asked for while one runs', () => {
    function holdSnapshots(): () => void {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      replication.snapshotResult = async () => {
        await held;
        return { at: '2026-11-25T10:00:00.000Z' };
      };
      return release;
    }

    it('joins the snapshot of the last unmount: the data cannot have changed since', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.mount('v1', 'c1');
      const release = holdSnapshots();
      volumes.unmount('v1', 'c1');
      const asked = volumes.replicate('v1');
      release();
      await expect(asked).resolves.toEqual({ name: 'v1', lastReplicatedAt: '2026-11-25T10:00:00.000Z' });
      expect(replication.snapshots).toEqual(['v1']);
    });

    it('takes a snapshot of its own when the volume was mounted since the running one began', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      const release = holdSnapshots();
      const first = volumes.replicate('v1');
      await volumes.mount('v1', 'c1');
      volumes.unmount('v1', 'c1');
      const second = volumes.replicate('v1');
      release();
      await Promise.all([first, second]);
      expect(replication.snapshots.filter((n) => n === 'v1').length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('replication outcomes', () => {
    it('records NOT_WRITER, marks the volume as not the writer, and does not retry', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      replication.snapshotResult = async () => {
        throw new ProtocolException(ErrorCode.NOT_WRITER, 'The replica of v1 is now written by device X.');
      };
      await expect(volumes.replicate('v1')).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER });
      expect(await volumes.view('v1')).toMatchObject({ isWriter: false, replication: { state: 'error', code: ErrorCode.NOT_WRITER } });

      await volumes.mount('v1', 'c1');
      volumes.unmount('v1', 'c1');
      await settle();
      expect(scheduler.retries).toEqual([]);
    });

    it('retries a failed background replication with back-off and keeps the error visible', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      replication.snapshotResult = async () => {
        throw new ProtocolException(ErrorCode.REPLICATION_FAILED, 'The replica of v1 cannot be read: connection refused');
      };
      await volumes.mount('v1', 'c1');
      volumes.unmount('v1', 'c1');
      await settle();
      expect(scheduler.retries).toEqual(['v1']);
      expect(await volumes.view('v1')).toMatchObject({
        lastReplicatedAt: null,
        replication: { state: 'error', error: expect.stringContaining('connection refused') },
      });
    });

    it('after a restart, turns an interrupted replication into an error and schedules it again', async () => {
      const first = service();
      await first.create(request('v1'));
      let finish!: (value: { at: string }) => void;
      replication.snapshotResult = () => new Promise((resolve) => (finish = resolve));
      void first.replicate('v1');
      expect((await first.view('v1')).replication.state).toBe('replicating');

      const second = service(); // what a SIGKILL and a start would load
      expect((await second.view('v1')).replication).toEqual({ state: 'error', error: expect.stringMatching(/interrupted/) });
      expect(scheduler.retries).toEqual(['v1']);
      finish({ at: '2026-11-25T10:00:00.000Z' });
    });

    it('never writes a key or password to state.json', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.replicate('v1');
      const state = JSON.parse(readFileSync(join(config.dataDir, 'state.json'), 'utf8'));
      expect(Object.keys(state.volumes[0]).sort()).toEqual(
        ['createdAt', 'fingerprint', 'instance', 'isWriter', 'lastReplicatedAt', 'mounts', 'name', 'replication', 'role', 'writer'].sort(),
      );
    });
  });

  describe('remove', () => {
    it('refuses while mounted, then removes the local data (and the replica only when asked)', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      await volumes.mount('v1', 'c1');
      await expect(volumes.remove('v1', { replica: true })).rejects.toMatchObject({ code: ErrorCode.BUSY });
      expect(existsSync(volumes.mountpoint('v1'))).toBe(true);
      volumes.unmount('v1', 'c1');
      await volumes.remove('v1', { replica: false });
      expect(existsSync(volumes.volumeDir('v1'))).toBe(false);
      expect(replication.snapshots).not.toContain('destroy v1');

      await volumes.create(request('v2'));
      await volumes.remove('v2', { replica: true });
      expect(replication.snapshots).toContain('destroy v2');
      expect(volumes.count()).toBe(0);
    });

    it('docker volume rm keeps the data when the final replication fails', async () => {
      const volumes = service();
      await volumes.create(request('v1'));
      replication.snapshotResult = async () => {
        throw new ProtocolException(ErrorCode.REPLICATION_FAILED, 'unreachable');
      };
      await expect(volumes.removeForDocker('v1')).rejects.toMatchObject({
        code: ErrorCode.REPLICATION_FAILED,
        message: expect.stringMatching(/kept/),
      });
      expect(existsSync(volumes.mountpoint('v1'))).toBe(true);

      replication.snapshotResult = async () => ({ at: '2026-11-25T11:00:00.000Z' });
      await volumes.removeForDocker('v1');
      expect(existsSync(volumes.volumeDir('v1'))).toBe(false);
    });
  });
});
