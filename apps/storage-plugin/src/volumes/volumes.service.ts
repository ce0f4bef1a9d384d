import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { FilesAdapter } from '../common/files.adapter';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { KeyRegistry } from '../keys/key-registry.service';
import { ReplicationScheduler } from '../replication/replication-scheduler.service';
import { ReplicaTarget, ReplicaWriter, ReplicationService, StageResult } from '../replication/replication.service';
import { ReplicationState, VOLUME_NAME_PATTERN, VolumeRecord, VolumeRole, VolumeView, mountCount } from './volume-record';
import { VolumeStateStore } from './volume-state.store';

export interface CreateVolumeRequest {
  name: string;
  instance: string;
  role: VolumeRole;
  fingerprint: string;
  writer: string;
  failover?: boolean;
}

export interface ReplicatedVolume {
  name: string;
  lastReplicatedAt: string;
}

function asProtocolException(err: unknown): ProtocolException {
  if (err instanceof ProtocolException) return err;
  return new ProtocolException(ErrorCode.INTERNAL, (err as Error)?.message || 'Unexpected failure.');
}

/**
 * The volumes: their records (persisted in state.json), their data directories, mount counting,
 * and the lifecycle that ties Docker's and the device's requests to the replica.
 */
/** `GET /volumes/:name/writer`. */
export type VolumeWriter = { name: string } & ReplicaWriter;

@Injectable()
export class VolumesService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Volumes');
  private readonly records = new Map<string, VolumeRecord>();
  /** Volumes being created or restored: not yet mountable. */
  private readonly preparing = new Set<string>();
  /** Mounts so far per volume (in memory): tells whether data may have changed since a point in time. */
  private readonly mountEpoch = new Map<string, number>();
  /** The snapshot running per volume, and whether nothing was mounted when it began. */
  private readonly inFlight = new Map<string, { done: Promise<ReplicatedVolume>; epoch: number; unmounted: boolean }>();

  constructor(
    @Inject(PLUGIN_CONFIG) private readonly config: PluginConfig,
    private readonly store: VolumeStateStore,
    private readonly files: FilesAdapter,
    private readonly keys: KeyRegistry,
    private readonly replication: ReplicationService,
    private readonly scheduler: ReplicationScheduler,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    for (const record of this.store.load()) {
      this.records.set(record.name, record);
      if (record.replication.state === 'replicating') {
        // The plugin stopped during a snapshot: that snapshot may be missing, so one is retried.
        record.replication = { state: 'error', error: 'A replication was interrupted by a restart; it is retried.' };
        this.retryInBackground(record.name);
      }
    }
    this.save();
    this.logger.log(`${this.records.size} volume(s) known`);
  }

  onApplicationBootstrap(): void {
    this.scheduler.startPeriodic(() => this.replicateMounted());
  }

  count(): number {
    return this.records.size;
  }

  names(): string[] {
    return [...this.records.keys()].sort();
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  volumeDir(name: string): string {
    return join(this.config.dataDir, 'volumes', name);
  }

  mountpoint(name: string): string {
    return join(this.volumeDir(name), 'data');
  }

  /** The record of a volume, or NOT_FOUND. */
  record(name: string): VolumeRecord {
    const record = this.records.get(name);
    if (!record) throw new ProtocolException(ErrorCode.NOT_FOUND, `No volume named ${name}.`);
    return record;
  }

  async list(): Promise<VolumeView[]> {
    return Promise.all(this.names().map((name) => this.view(name)));
  }

  async view(name: string): Promise<VolumeView> {
    const record = this.record(name);
    const sizeBytes = await this.files.directorySize(this.mountpoint(name));
    return {
      name: record.name,
      instance: record.instance,
      role: record.role,
      fingerprint: record.fingerprint,
      mountpoint: this.mountpoint(name),
      mounts: mountCount(record),
      sizeBytes,
      lastReplicatedAt: record.lastReplicatedAt,
      replication: { ...record.replication },
      writer: record.writer,
      isWriter: record.isWriter,
    };
  }

  /**
   * Creates a volume, restored from its replica when one exists, else with a new repository.
   * Idempotent for a volume that exists with the same identity; `failover` takes the writer role
   * over (and replaces local data another device has since superseded).
   */
  async create(request: CreateVolumeRequest, onProgress?: (percent: number) => void): Promise<VolumeView> {
    const { name } = request;
    if (!VOLUME_NAME_PATTERN.test(name))
      throw new ProtocolException(ErrorCode.INVALID_PARAMS, `"${name.slice(0, 140)}" is not a valid volume name.`);
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is being prepared.`);
    const existing = this.records.get(name);
    if (existing) {
      const differs: string[] = (['instance', 'role', 'fingerprint'] as const).filter((f) => existing[f] !== request[f]);
      if (!request.failover && existing.writer !== request.writer) differs.push('writer');
      if (differs.length) {
        throw new ProtocolException(ErrorCode.INVALID_PARAMS, `Volume ${name} exists with another ${differs.join(', ')}.`, {
          fields: differs,
        });
      }
      if (!request.failover) return this.view(name);
      if (mountCount(existing) > 0) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is mounted; unmount it before a failover.`);
    }
    if (!this.keys.has(request.fingerprint)) {
      throw new ProtocolException(
        ErrorCode.KEYS_MISSING,
        `The key ${request.fingerprint} is not registered; register it before creating ${name}.`,
      );
    }

    this.preparing.add(name);
    const volumeDir = this.volumeDir(name);
    const madeDir = !(await this.files.exists(volumeDir));
    try {
      await this.files.makeDir(volumeDir, 0o700);
      const target: ReplicaTarget = { name, fingerprint: request.fingerprint, writer: request.writer };
      const prepared = await this.replication.prepare(target, this.mountpoint(name), { failover: request.failover === true, onProgress });
      const record: VolumeRecord = {
        name,
        instance: request.instance,
        role: request.role,
        fingerprint: request.fingerprint,
        writer: request.writer,
        createdAt: existing?.createdAt ?? this.clock.now().toISOString(),
        mounts: existing?.mounts ?? {},
        lastReplicatedAt: prepared.snapshotAt ?? existing?.lastReplicatedAt ?? null,
        replication: prepared.isWriter
          ? { state: 'idle' }
          : {
              state: 'error',
              code: ErrorCode.NOT_WRITER,
              // No writer while devices contend for the replica (docs/storage-plugin-api.md §3).
              error: prepared.replicaWriter
                ? `The replica is written by device ${prepared.replicaWriter}.`
                : 'Several devices claim the replica at once.',
            },
        isWriter: prepared.isWriter,
      };
      this.records.set(name, record);
      this.save();
      this.logger.log(`volume ${name} ${prepared.restoredFrom ? 'restored' : 'created'}${request.failover ? ' (failover)' : ''}`);
      return await this.view(name);
    } catch (err) {
      // Nothing half-created: a new volume leaves no directory behind.
      if (madeDir && !this.records.has(name)) await this.files.removeTree(volumeDir);
      throw asProtocolException(err);
    } finally {
      this.preparing.delete(name);
    }
  }

  /**
   * Stages a move to this device: the replica's current snapshot restored ahead, beside the
   * volumes, without claiming the replica (ReplicationService.stage). The key must be registered.
   */
  async stage(name: string, fingerprint: string, onProgress?: (percent: number) => void): Promise<StageResult> {
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is being prepared.`);
    if (!this.keys.has(fingerprint)) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `The key ${fingerprint} is not registered; register it before staging ${name}.`);
    }
    try {
      return await this.replication.stage({ name, fingerprint }, onProgress);
    } catch (err) {
      throw asProtocolException(err);
    }
  }

  /** Drops a volume's staged restore; false when it had none. */
  discardStage(name: string): Promise<boolean> {
    return this.replication.discardStage(name);
  }

  /** Docker mounts the volume for a container; counted per mount ID. */
  async mount(name: string, mountId: string): Promise<string> {
    const record = this.record(name);
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is still being restored.`);
    if (!(await this.files.exists(this.mountpoint(name)))) {
      throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, `The data directory of ${name} is missing.`);
    }
    // Checked with lstat right before Docker mounts it: a symlink on the way would be followed to the host.
    for (const path of [this.volumeDir(name), this.mountpoint(name)]) {
      if (!(await this.files.isFolder(path))) {
        throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, `${path} of ${name} is not a folder the plugin made (a symlink or a file); it is not mounted.`);
      }
    }
    record.mounts[mountId] = (record.mounts[mountId] ?? 0) + 1;
    this.mountEpoch.set(name, (this.mountEpoch.get(name) ?? 0) + 1);
    this.save();
    return this.mountpoint(name);
  }

  /** Docker unmounts; the last unmount of the volume starts a replication in the background. */
  unmount(name: string, mountId: string): void {
    const record = this.record(name);
    const count = record.mounts[mountId] ?? 0;
    if (count === 0) {
      this.logger.warn(`unmount of ${name} by ${mountId}, which had not mounted it; ignored`);
      return;
    }
    if (count === 1) delete record.mounts[mountId];
    else record.mounts[mountId] = count - 1;
    this.save();
    if (mountCount(record) === 0) this.replicateInBackground(name, 'last unmount');
  }

  /**
   * A snapshot now, waited for. A snapshot already running that began while nothing was mounted,
   * with no mount since, holds everything there is: the request joins it instead of making
   * another (a stop's final replication and the last unmount's ask for the same data).
   */
  async replicate(name: string): Promise<ReplicatedVolume> {
    const record = this.record(name);
    const epoch = this.mountEpoch.get(name) ?? 0;
    const unmounted = mountCount(record) === 0;
    const running = this.inFlight.get(name);
    if (running && running.unmounted && unmounted && running.epoch === epoch) return running.done;
    const entry = { done: this.snapshotNow(name, record), epoch, unmounted };
    this.inFlight.set(name, entry);
    try {
      return await entry.done;
    } finally {
      if (this.inFlight.get(name) === entry) this.inFlight.delete(name);
    }
  }

  private async snapshotNow(name: string, record: VolumeRecord): Promise<ReplicatedVolume> {
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is being prepared.`);
    this.setReplication(record, { state: 'replicating' });
    try {
      const { at } = await this.replication.snapshot(this.target(record), this.mountpoint(name));
      const current = this.records.get(name);
      if (current) {
        if (!current.lastReplicatedAt || current.lastReplicatedAt < at) current.lastReplicatedAt = at;
        current.isWriter = true;
        this.setReplication(current, { state: 'idle' });
      }
      this.scheduler.reset(name);
      return { name, lastReplicatedAt: current?.lastReplicatedAt ?? at };
    } catch (err) {
      const failure = asProtocolException(err);
      const current = this.records.get(name);
      if (current) {
        if (failure.code === ErrorCode.NOT_WRITER) current.isWriter = false;
        this.setReplication(current, { state: 'error', code: failure.code, error: failure.message });
      }
      throw failure;
    }
  }

  /**
   * Who writes the volume's replica now (its snapshots listed afresh), for the Device's check
   * before it starts an app. A volume found fenced records it as a failed snapshot would.
   */
  async writer(name: string): Promise<VolumeWriter> {
    const record = this.record(name);
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is being prepared.`);
    const answer = await this.replication.writerOf(this.target(record));
    const current = this.records.get(name);
    if (current && !answer.isWriter && !answer.contested && current.isWriter) {
      current.isWriter = false;
      this.setReplication(current, { state: 'error', code: ErrorCode.NOT_WRITER, error: `The replica is written by device ${answer.writer}.` });
    }
    return { name, ...answer };
  }

  /**
   * Removes the local data, and the replica too when asked (only its writer may). Refused while
   * the volume is mounted.
   */
  async remove(name: string, options: { replica: boolean }): Promise<void> {
    const record = this.record(name);
    if (mountCount(record) > 0)
      throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is mounted (${mountCount(record)}); unmount it first.`);
    if (this.preparing.has(name)) throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is being prepared.`);
    this.preparing.add(name);
    try {
      if (options.replica) await this.replication.destroy(this.target(record));
      else await this.replication.settle(name);
      await this.files.removeTree(this.volumeDir(name));
      this.records.delete(name);
      this.scheduler.reset(name);
      this.save();
      this.logger.log(`volume ${name} removed${options.replica ? ' with its replica' : ''}`);
    } catch (err) {
      throw asProtocolException(err);
    } finally {
      this.preparing.delete(name);
    }
  }

  /**
   * `docker volume rm`: the local data goes only once it is in the replica. A writer replicates
   * first and keeps the data when that fails; a volume another device now writes is stale here.
   */
  async removeForDocker(name: string): Promise<void> {
    const record = this.record(name);
    if (mountCount(record) > 0)
      throw new ProtocolException(ErrorCode.BUSY, `Volume ${name} is mounted (${mountCount(record)}); unmount it first.`);
    if (record.isWriter) {
      try {
        await this.replicate(name);
      } catch (err) {
        const failure = asProtocolException(err);
        if (failure.code !== ErrorCode.NOT_WRITER) {
          throw new ProtocolException(failure.code, `Volume ${name} was kept: its final replication failed (${failure.message})`);
        }
      }
    }
    await this.remove(name, { replica: false });
  }

  /** The periodic tick: a snapshot of every mounted volume this device writes. */
  replicateMounted(): void {
    for (const record of this.records.values()) {
      if (mountCount(record) > 0 && record.isWriter && !this.preparing.has(record.name))
        this.replicateInBackground(record.name, 'periodic');
    }
  }

  /** A replication nobody waits for: failures are recorded and retried with back-off (not NOT_WRITER). */
  private replicateInBackground(name: string, reason: string): void {
    this.logger.debug(`replicating ${name} (${reason})`);
    this.replicate(name).catch((err: ProtocolException) => {
      if (!this.records.has(name) || err.code === ErrorCode.NOT_WRITER) {
        this.logger.warn(`replication of ${name} (${reason}) refused: ${err.message}`);
        return;
      }
      this.retryInBackground(name);
      this.logger.warn(`replication of ${name} (${reason}) failed, retried later: ${err.message}`);
    });
  }

  private retryInBackground(name: string): void {
    this.scheduler.retryLater(name, () => this.replicateInBackground(name, 'retry'));
  }

  private target(record: VolumeRecord): ReplicaTarget {
    return { name: record.name, fingerprint: record.fingerprint, writer: record.writer };
  }

  private setReplication(record: VolumeRecord, state: ReplicationState): void {
    record.replication = state;
    this.save();
  }

  private save(): void {
    this.store.save([...this.records.values()]);
  }
}
