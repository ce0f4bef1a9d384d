import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ErrorCode, ProtocolException, ReplicatedVolumeDto, StagedVolumeDto, VolumeReportDto } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { InstanceKey, InstanceKeys, KeystoreService } from '../keystore/keystore.service';
import { DeviceMetrics } from '../metrics/device-metrics';
import { PluginVolume, StorageControlClient, StorageControlError } from './storage-control.client';
import { appVolumeName, linkVolumeName } from './volume-names';

/** Marks the volumes the device made, so they can be told from anything else on the engine. */
export const VOLUME_INSTANCE_LABEL = 'io.mosaic.instance';
export const VOLUME_ROLE_LABEL = 'io.mosaic.role';
const HEALTH_POLL_MS = 500;
/** How long a health probe or a scrape waits for the plugin; the image's HEALTHCHECK allows 5 s in all. */
const STATUS_TIMEOUT_MS = 2000;

export type StorageStatus =
  | { reachable: true; version: string; volumes: PluginVolume[] }
  | { reachable: false; error: string; volumes: PluginVolume[] };

function codeOf(err: unknown): string | undefined {
  return err instanceof StorageControlError ? err.error.code : undefined;
}

/**
 * The device's side of the Mosaic storage plugin: registers the instances' keys with it (memory
 * only), creates and restores the two volumes of an instance before Compose starts it, replicates
 * them when it stops, and turns the plugin's replica state into `report.volumes`.
 */
@Injectable()
export class StorageService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Storage');
  /** The plugin's last answer, so a report can still name the volumes while it is away. */
  private lastKnown: PluginVolume[] = [];

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly plugin: StorageControlClient,
    private readonly engine: DockerEngineAdapter,
    private readonly keystore: KeystoreService,
    private readonly hive: HiveConnectionService,
    private readonly metrics: DeviceMetrics,
  ) {}

  onApplicationBootstrap(): void {
    void this.plugin.health().then(
      (h) => this.logger.log(`storage plugin ${h.version} answers on ${this.config.storagePluginSocket} (driver ${h.driver})`),
      () => this.logger.warn(`the storage plugin does not answer on ${this.config.storagePluginSocket} yet`),
    );
    // After a restart of the plugin its keys are gone; Hive's handshake is the moment keys can be had again.
    this.hive.onAuthenticated(() => void this.syncKeys().catch((err: Error) => this.logger.warn(`key sync: ${err.message}`)));
  }

  async pluginVersion(): Promise<string> {
    try {
      return (await this.plugin.health()).version;
    } catch {
      return 'unavailable';
    }
  }

  /** Waits for the plugin (STORAGE_PLUGIN_WAIT_S unless told), or fails with a clear STORAGE_UNAVAILABLE. */
  async ready(waitS = this.config.storagePluginWaitS): Promise<void> {
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      try {
        await this.plugin.health();
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          throw new ProtocolException(
            ErrorCode.STORAGE_UNAVAILABLE,
            `The storage plugin does not answer on ${this.config.storagePluginSocket} (waited ${waitS} s): ${(err as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
      }
    }
  }

  /**
   * Registers both keys, creates both volumes in the plugin (restoring their replicas when they
   * exist; on failover taking over as writer), then as Docker volumes of STORAGE_DRIVER.
   */
  async prepareVolumes(instance: string, keys: InstanceKeys, options: { failover: boolean; progress?: (percent: number) => void }): Promise<string[]> {
    await this.ready();
    const writer = this.hive.deviceId;
    if (!writer) throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, 'The device does not know its id yet (no handshake with Hive so far).');
    // The two volumes have repositories of their own: they are prepared side by side.
    const percent = { app: 0, link: 0 };
    const report = () => options.progress?.(Math.round((percent.app + percent.link) / 2));
    return Promise.all(
      [keys.app, keys.link].map(async (key) => {
        const name = key.role === 'app' ? appVolumeName(instance) : linkVolumeName(instance);
        await this.register(key);
        this.metrics.restoreStarted(name);
        try {
          await this.plugin.createVolume({ name, instance, role: key.role, fingerprint: key.fingerprint, writer, failover: options.failover }, (p) => {
            percent[key.role] = p;
            this.metrics.restoreAdvanced(name, p);
            report();
          });
          this.metrics.restoreEnded(name, true);
        } catch (err) {
          this.metrics.restoreEnded(name, false);
          throw this.storageError(`The ${key.role} volume of ${instance} could not be prepared`, err, ErrorCode.RESTORE_FAILED);
        }
        const driver = await this.engine
          .ensureVolume(name, this.config.storageDriver, { [VOLUME_INSTANCE_LABEL]: instance, [VOLUME_ROLE_LABEL]: key.role })
          .catch((err: Error) => {
            throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, `Docker could not create volume ${name} with driver ${this.config.storageDriver}: ${err.message}`);
          });
        if (driver !== this.config.storageDriver) {
          throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, `Volume ${name} exists with driver ${driver}, not ${this.config.storageDriver}; remove it or move its data first.`);
        }
        return name;
      }),
    );
  }

  /**
   * Refuses with NOT_WRITER, before anything runs, an instance whose replica another device now
   * writes (it moved while this device was away). Only a definite answer refuses: the plugin
   * names another writer. A plugin that cannot tell (replica unreachable, keys not registered, a
   * plugin without the route, contending claims) lets the start go on, as before the check.
   */
  async assertWriter(instance: string): Promise<void> {
    const own = this.hive.deviceId;
    const names = [appVolumeName(instance), linkVolumeName(instance)];
    const answers = await Promise.all(
      names.map((name) =>
        this.plugin.writer(name).catch((err: Error) => {
          this.logger.warn(`cannot tell who writes the replica of ${name} (${codeOf(err) ?? 'no answer'}: ${err.message}); going on`);
          return undefined;
        }),
      ),
    );
    for (const answer of answers) {
      if (!answer || answer.isWriter || answer.contested || answer.writer === null || answer.writer === own) continue;
      throw new ProtocolException(
        ErrorCode.NOT_WRITER,
        `Device ${answer.writer} now writes the replica of ${answer.name} (the app moved there): this device does not start its copy.`,
        { volume: answer.name, writer: answer.writer },
      );
    }
  }

  /**
   * Stages a move to this device (§2.7): both keys registered, both replicas restored ahead by the
   * plugin, side by side, without taking the writer role; the start that follows only brings them
   * up to date.
   */
  async stageVolumes(instance: string, keys: InstanceKeys, progress?: (percent: number) => void): Promise<StagedVolumeDto[]> {
    await this.ready();
    const percent = { app: 0, link: 0 };
    const report = () => progress?.(Math.round((percent.app + percent.link) / 2));
    return Promise.all(
      [keys.app, keys.link].map(async (key) => {
        const name = key.role === 'app' ? appVolumeName(instance) : linkVolumeName(instance);
        await this.register(key);
        try {
          const staged = await this.plugin.stageVolume(name, key.fingerprint, (p) => {
            percent[key.role] = p;
            report();
          });
          return { name, snapshot: staged.snapshot, snapshotAt: staged.snapshotAt, bytes: staged.bytes };
        } catch (err) {
          throw this.storageError(`The ${key.role} volume of ${instance} could not be staged`, err, ErrorCode.RESTORE_FAILED);
        }
      }),
    );
  }

  /** Drops what a stage of the instance left (a move that will not come); the volumes it dropped. */
  async discardStages(instance: string): Promise<string[]> {
    await this.ready();
    const names = [appVolumeName(instance), linkVolumeName(instance)];
    const dropped = await Promise.all(
      names.map((name) =>
        this.plugin.discardStage(name).catch((err: unknown) => {
          throw this.storageError(`The stage of ${name} could not be dropped`, err, ErrorCode.STORAGE_UNAVAILABLE);
        }),
      ),
    );
    return names.filter((_n, i) => dropped[i]);
  }

  /** After a stop: a final replication of both volumes (unless `replicate` is false). */
  async afterStop(instance: string, replicate: boolean): Promise<ReplicatedVolumeDto[]> {
    return this.replicateVolumes(instance, replicate ? 'final' : undefined);
  }

  /**
   * §2.8: a snapshot of both volumes now, while they may be mounted (the plugin snapshots a
   * running app's volume as its periodic replication does). Failures as for a stop's final one.
   */
  replicateNow(instance: string): Promise<ReplicatedVolumeDto[]> {
    return this.replicateVolumes(instance, 'requested');
  }

  /** Both volumes' replicas written side by side (`which` says for what), or only their state without `which`. */
  private async replicateVolumes(instance: string, which?: 'final' | 'requested'): Promise<ReplicatedVolumeDto[]> {
    const names = [appVolumeName(instance), linkVolumeName(instance)];
    const known = new Map((await this.listOrFail()).map((v) => [v.name, v]));
    if (!names.every((n) => known.has(n))) {
      throw new ProtocolException(ErrorCode.REPLICATION_FAILED, `The storage plugin does not hold the volumes of ${instance}.`);
    }
    if (!which) return names.map((name) => ({ name, lastReplicatedAt: known.get(name)?.lastReplicatedAt ?? null }));
    await this.registerFor(instance).catch((err: unknown) => {
      throw this.replicationError(`The keys of ${instance} could not be given to the storage plugin, so nothing was replicated`, err);
    });
    // Both repositories are written side by side; the first refusal is the stop's answer.
    const settled = await Promise.allSettled(names.map((name) => this.plugin.replicate(name)));
    for (const outcome of settled) {
      if (outcome.status !== 'fulfilled') continue;
      const known = this.lastKnown.find((v) => v.name === outcome.value.name);
      if (known) known.lastReplicatedAt = outcome.value.lastReplicatedAt;
    }
    return settled.map((outcome, i) => {
      if (outcome.status === 'fulfilled') return { name: names[i], lastReplicatedAt: outcome.value.lastReplicatedAt };
      if (codeOf(outcome.reason) === ErrorCode.NOT_WRITER) {
        throw new ProtocolException(ErrorCode.NOT_WRITER, `The replica of ${names[i]} now belongs to another device; this device may no longer write it.`);
      }
      throw this.replicationError(
        which === 'final'
          ? `The final replication of ${names[i]} failed; the app stays stopped and its local data is kept`
          : `The replication of ${names[i]} failed; nothing else changed`,
        outcome.reason,
      );
    });
  }

  /**
   * §4 report.volumes: the plugin's replica state with each volume's key. While the plugin does
   * not answer, the volumes it last named are reported in state `error`, saying why.
   */
  async volumes(): Promise<VolumeReportDto[]> {
    let volumes: PluginVolume[];
    try {
      volumes = this.lastKnown = await this.plugin.volumes();
      // A plugin that restarted (its container crashed and came back) has no keys, while Hive
      // still accepts this device: register them again rather than wait for the next handshake.
      const registered = new Set(await this.plugin.keys());
      if (volumes.some((v) => !registered.has(v.fingerprint))) void this.syncKeys().catch((err: Error) => this.logger.warn(`key sync: ${err.message}`));
    } catch (err) {
      const error = `the storage plugin does not answer: ${(err as Error).message}`;
      volumes = this.lastKnown.map((v) => ({ ...v, replication: { state: 'error', error } }));
    }
    const report: VolumeReportDto[] = [];
    for (const v of volumes) {
      const key = this.keystore.cached(v.instance)?.[v.role];
      if (!key) continue; // its keys are fetched once Hive is there; until then the volume cannot be described
      report.push({
        name: v.name,
        instance: v.instance,
        role: v.role,
        fingerprint: v.fingerprint,
        publicKey: key.publicKey,
        lastReplicatedAt: v.lastReplicatedAt,
        replication: {
          state: v.replication.state,
          ...(v.replication.error ? { error: `${v.replication.code ? `${v.replication.code}: ` : ''}${v.replication.error}`.slice(0, 4096) } : {}),
        },
        sizeBytes: v.sizeBytes,
      });
    }
    return report;
  }

  /**
   * For health and metrics, never throwing and cheap: whether the plugin answers within
   * STATUS_TIMEOUT_MS (its health call only), and the volumes of the last report.volumes (listing them
   * afresh walks every file of every volume, too much for each probe or scrape).
   */
  async status(): Promise<StorageStatus> {
    try {
      const health = await this.plugin.health(STATUS_TIMEOUT_MS);
      return { reachable: true, version: health.version, volumes: this.lastKnown };
    } catch (err) {
      return { reachable: false, error: (err as Error).message, volumes: this.lastKnown };
    }
  }

  /** Registers the keys the plugin lacks, for every instance it holds volumes of. */
  async syncKeys(): Promise<void> {
    const [volumes, registered] = await Promise.all([this.plugin.volumes(), this.plugin.keys()]);
    // Keys the plugin lacks (it restarted), and keys this device has not held since it started: a
    // volume is reported with its key (volumes()), so without them Hive would hear of none of the
    // volumes of a device that restarted beside a plugin that lived on.
    const missing = new Set(volumes.filter((v) => !registered.includes(v.fingerprint) || !this.keystore.cached(v.instance)).map((v) => v.instance));
    // One instance whose keys cannot be had (say, removed in Hive) must not keep the others' keys away.
    const failed: string[] = [];
    for (const instance of missing) {
      await this.registerFor(instance).catch((err: Error) => failed.push(`${instance} (${err.message})`));
    }
    if (missing.size > failed.length) this.logger.log(`registered the keys of ${missing.size - failed.length} instance(s) with the storage plugin`);
    if (failed.length) throw new Error(`the keys of ${failed.length} instance(s) could not be registered: ${failed.join('; ')}`);
  }

  /** The instance's keys (from memory or Hive, never new ones) registered with the plugin. */
  private async registerFor(instance: string): Promise<void> {
    const keys = await this.keystore.keysFor(instance, { failover: true });
    for (const key of [keys.app, keys.link]) await this.register(key);
  }

  private async register(key: InstanceKey): Promise<void> {
    try {
      await this.plugin.registerKey(key.fingerprint, key.privateKey.reveal());
    } catch (err) {
      throw this.storageError(`The storage plugin did not take the ${key.role} key`, err, ErrorCode.STORAGE_UNAVAILABLE);
    }
  }

  private async listOrFail(): Promise<PluginVolume[]> {
    try {
      return (this.lastKnown = await this.plugin.volumes());
    } catch (err) {
      throw this.replicationError('The storage plugin cannot be asked for its volumes', err);
    }
  }

  /** §2: a stop fails with NOT_WRITER or REPLICATION_FAILED only, whatever went wrong underneath. */
  private replicationError(what: string, err: unknown): ProtocolException {
    return new ProtocolException(ErrorCode.REPLICATION_FAILED, `${what}: ${(err as Error).message}`);
  }

  private storageError(what: string, err: unknown, fallback: ErrorCode): ProtocolException {
    if (err instanceof ProtocolException) return err;
    const code = codeOf(err);
    const known: string[] = [ErrorCode.RESTORE_FAILED, ErrorCode.REPLICATION_FAILED, ErrorCode.NOT_WRITER, ErrorCode.STORAGE_UNAVAILABLE];
    return new ProtocolException((code && known.includes(code) ? code : fallback) as ErrorCode, `${what}: ${(err as Error).message}`);
  }
}
