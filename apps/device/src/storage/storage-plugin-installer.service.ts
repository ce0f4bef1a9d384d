import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, isAbsolute } from 'node:path';
import { RESTIC_SECRET_VARIABLES } from '@mosaic/protocol';
import { COMPONENT_LABEL, STORAGE_DRIVER_LABEL } from '../common/labels';
import { StateStore } from '../common/state-store';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ContainerSwap, SwapRefused } from '../docker/container-swap';
import { ContainerDetails, ContainerSpec, DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { parseImageReference, siblingRepository, taggedWithVersion } from '../docker/image-reference';
import { OwnContainerService } from '../docker/own-container.service';
import { StorageService } from './storage.service';

/** Where dockerd looks for the sockets of legacy plugins (a fixed path of the engine). */
export const ENGINE_PLUGIN_DIR = '/run/docker/plugins';
/** The plugin's default REPLICA_URL (docs/protocol.md §6). */
const DEFAULT_REPLICA_URL = '/var/lib/mosaic/replicas';
/** How long a plugin container found running may take to answer before it is restarted. */
const REVIVE_AFTER_S = 10;
/** The plugin finishes a running snapshot and the last unmounts' replications when stopped: give it time. */
const PLUGIN_STOP_GRACE_S = 120;
/** The id of the plugin container this device created or kept: what an upgrade may recreate. */
const RECORD_FILE = 'plugin-container.json';

/** Handed-on variables that name files or folders: the plugin container gets them at the same path. */
const PATH_VARIABLES: Record<string, 'ro' | 'rw'> = {
  RESTIC_CACERT: 'ro',
  RESTIC_TLS_CLIENT_CERT: 'ro',
  SSL_CERT_FILE: 'ro',
  SSL_CERT_DIR: 'ro',
  GOOGLE_APPLICATION_CREDENTIALS: 'ro',
  RCLONE_CONFIG: 'ro',
  RESTIC_CACHE_DIR: 'rw',
  // The files of restic's credentials given as NAME_FILE: the plugin reads them at its start.
  ...Object.fromEntries(RESTIC_SECRET_VARIABLES.map((name) => [`${name}_FILE`, 'ro' as const])),
};
/** A digest of the container's image, environment and mounts: a changed setting means a new container. */
export const CONFIG_DIGEST_LABEL = 'io.mosaic.config-digest';

const DIGEST_KEY_FILE = 'plugin-digest.key';

export type InstallOutcome = 'running' | 'started' | 'created' | 'replaced';

/** Where plugin images come from when the device's own image says nothing (it runs by id, or outside a container). */
const DEFAULT_PLUGIN_REPOSITORY = 'mosaic/storage-plugin';

/**
 * STORAGE_PLUGIN_IMAGE unset: the plugin image published beside the device's own image, at the
 * device's version (`ghcr.io/me/device:1.2.0` → `ghcr.io/me/storage-plugin:1.2.0`), so the
 * plugin follows the device through an upgrade and back through a rollback.
 */
export function pluginImageBeside(own: ContainerDetails | undefined): string {
  const repository = own && parseImageReference(own.image)?.repository;
  return taggedWithVersion((repository && siblingRepository(repository, 'device', 'storage-plugin')) || DEFAULT_PLUGIN_REPOSITORY, DEVICE_VERSION);
}

/**
 * STORAGE_PLUGIN_MODE=container (docs/architecture.md, "Device boot"): before the device connects to Hive, it makes
 * sure the storage plugin runs as a container beside it, created from STORAGE_PLUGIN_IMAGE with
 * the device's plugin settings, and waits for it to answer.
 */
@Injectable()
export class StoragePluginInstaller implements OnModuleInit {
  /** The container recorded in this run (the store writes it in the background). */
  private recordedId?: string;
  private readonly logger = new Logger('StoragePlugin');
  private key?: Buffer;
  /** The image of the plugin container this boot replaced: unused once an upgrade has ended either way. */
  private replaced?: string;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly engine: DockerEngineAdapter,
    private readonly ownContainer: OwnContainerService,
    private readonly storage: StorageService,
    private readonly state: StateStore,
    private readonly swap: ContainerSwap,
  ) {}

  /** The id of the image of the plugin container this boot replaced, if it replaced one. */
  get replacedImageId(): string | undefined {
    return this.replaced;
  }

  async onModuleInit(): Promise<void> {
    if (this.config.storagePluginMode !== 'container') return;
    const { name } = this.config.pluginContainer;
    try {
      const outcome = await this.install();
      this.logger.log(`storage plugin container ${name}: ${outcome}`);
      // A container left running can hold a stale mount (its socket folder's volume was removed
      // and made again): it runs, but its socket is not where the device looks. A restart re-mounts.
      if (outcome === 'running' && !(await this.storage.ready(REVIVE_AFTER_S).then(() => true, () => false))) {
        this.logger.warn(`${name} runs but does not answer on ${this.config.storagePluginSocket}; restarting it`);
        await this.engine.restartContainer(name, PLUGIN_STOP_GRACE_S);
      }
    } catch (err) {
      // The device still connects and reports; starts fail with STORAGE_UNAVAILABLE until this is fixed.
      this.logger.error(`the storage plugin container ${name} could not be started: ${(err as Error).message}`);
      return;
    }
    await this.storage.ready().then(
      () => this.logger.log(`the storage plugin answers on ${this.config.storagePluginSocket}`),
      (err: Error) => this.logger.error(err.message),
    );
  }

  /**
   * Leaves a running container of the same settings alone; starts, creates or replaces it
   * otherwise. Records the id of the container it keeps (the upgrade's target).
   */
  async install(): Promise<InstallOutcome> {
    const spec = await this.containerSpec();
    const existing = await this.engine.inspectContainer(spec.name);
    // The digest is keyed with a secret of STATE_DIR: a container that carries it is one this device made.
    if (existing && existing.labels[CONFIG_DIGEST_LABEL] === spec.labels[CONFIG_DIGEST_LABEL]) {
      this.record(existing.id);
      if (existing.running) return 'running';
      await this.engine.startContainer(spec.name);
      return 'started';
    }
    if (existing && existing.labels[COMPONENT_LABEL] !== 'storage-plugin') {
      throw new Error(`a container named ${spec.name} exists and is not a Mosaic storage plugin; remove it or set STORAGE_PLUGIN_CONTAINER`);
    }
    const driver = existing?.labels[STORAGE_DRIVER_LABEL];
    if (existing && driver !== undefined && driver !== this.config.storageDriver) {
      throw new Error(
        `${spec.name} is the storage plugin of driver ${driver} (another device on this engine); give this device its own STORAGE_PLUGIN_CONTAINER`,
      );
    }
    if (!(await this.engine.hasImage(spec.image))) {
      this.logger.log(`pulling ${spec.image}`);
      await this.engine.pullImage(spec.image).catch((err: Error) => {
        throw new Error(`image ${spec.image} is not on this engine and could not be pulled (${err.message}); load or build it, or set STORAGE_PLUGIN_IMAGE`);
      });
    }
    if (!existing) {
      this.record(await this.engine.runContainer(spec));
      return 'created';
    }
    await this.replace(existing, spec);
    return 'replaced';
  }

  /**
   * The plugin serves volumes that running apps have mounted: those stay mounted (Docker bound
   * their folders into the apps' containers), only new mounts wait while no plugin runs. So the
   * old container is stopped before the new one starts on the same sockets, and comes back when
   * the new one does not answer within STORAGE_PLUGIN_WAIT_S.
   */
  private async replace(existing: ContainerDetails, spec: ContainerSpec): Promise<void> {
    const restartPolicy = (await this.engine.inspectContainerRaw(existing.id))?.HostConfig.RestartPolicy ?? { Name: 'unless-stopped' };
    const waitS = this.config.storagePluginWaitS;
    const result = await this.swap.swap({
      old: { id: existing.id, name: spec.name, running: existing.running, restartPolicy },
      asideName: `${spec.name}-previous-${existing.id.slice(0, 12)}`,
      stopGraceS: PLUGIN_STOP_GRACE_S,
      create: () => this.engine.createContainer(spec),
      verify: () =>
        this.storage.ready(waitS).catch((err: Error) => {
          throw new SwapRefused('timeout', `it did not answer within ${waitS} s (${err.message})`);
        }),
      onStep: (step) => this.logger.log(`replacing ${spec.name} with ${spec.image}: ${step}`),
    });
    if (result.ok) {
      this.record(result.newId);
      this.replaced = existing.imageId;
      return;
    }
    if (result.restored) {
      this.record(existing.id);
      throw new Error(`the new plugin container (${spec.image}) was not taken: ${result.message}; the previous one runs again`);
    }
    throw new Error(`the new plugin container (${spec.image}) was not taken (${result.message}), and the previous one could not be put back: ${result.restoreError}`);
  }

  /**
   * The name of the plugin container this device installed, found by the id it recorded; never a
   * container that merely carries the plugin's labels. Undefined when there is none (any more).
   */
  async installedContainer(): Promise<string | undefined> {
    if (this.config.storagePluginMode !== 'container') return undefined;
    const id = this.recordedId ?? this.state.read<{ id?: string }>(RECORD_FILE)?.id;
    return id ? (await this.engine.inspectContainer(id))?.name : undefined;
  }

  private record(id: string): void {
    this.recordedId = id;
    // Not waited for, like the digest key: a STATE_DIR that cannot be written is reported by the store.
    this.state.document(RECORD_FILE, () => JSON.stringify({ id })).save();
  }

  /** A random key kept in STATE_DIR (mode 0600), made once, for the settings digest. */
  private digestKey(): Buffer {
    if (this.key) return this.key;
    const stored = this.state.read<{ key?: string }>(DIGEST_KEY_FILE)?.key;
    if (stored) return (this.key = Buffer.from(stored, 'base64'));
    const key = (this.key = randomBytes(32));
    // Not waited for: a STATE_DIR that cannot be written is reported by the store, and this boot goes on.
    this.state.document(DIGEST_KEY_FILE, () => JSON.stringify({ key: key.toString('base64') })).save();
    return key;
  }

  /**
   * The plugin container: its control socket in a folder shared with the device, its data and a
   * local replica folder at their paths on the engine's host (Docker mounts volumes from there).
   */
  async containerSpec(): Promise<ContainerSpec> {
    const own = await this.ownContainer.details();
    const onHost = async (path: string, what: string): Promise<string> => {
      const host = await this.ownContainer.hostPath(path, own);
      if (host === undefined) {
        throw new Error(`${what} ${path} is not a mount of the device's container, so the plugin container cannot share it; mount a volume or host folder there`);
      }
      return host;
    };
    const socketDir = dirname(this.config.storagePluginSocket);
    const hostSocketDir = await onHost(socketDir, 'the plugin socket folder');
    // Data and local replicas need not be visible to the device: a path not mounted in its container is taken as a host path.
    const dataDir = (await this.ownContainer.hostPath(this.config.volumesDir, own)) ?? this.config.volumesDir;
    const { env: handed, name } = this.config.pluginContainer;
    const image = this.config.pluginContainer.image ?? pluginImageBeside(own);
    const replica = handed.REPLICA_URL ?? DEFAULT_REPLICA_URL;
    const localReplica = isAbsolute(replica) ? replica : replica.startsWith('local:') ? replica.slice('local:'.length) : undefined;
    const replicaDir = localReplica && ((await this.ownContainer.hostPath(localReplica, own)) ?? localReplica);

    const env: Record<string, string> = {
      ...handed,
      STORAGE_DRIVER: this.config.storageDriver,
      DOCKER_PLUGIN_DIR: ENGINE_PLUGIN_DIR,
      STORAGE_PLUGIN_SOCKET: this.config.storagePluginSocket,
      STORAGE_DATA_DIR: dataDir,
      REPLICA_URL: replicaDir ?? replica,
      LOG_FORMAT: this.config.logFormat,
    };
    const binds = [`${hostSocketDir}:${socketDir}`, `${ENGINE_PLUGIN_DIR}:${ENGINE_PLUGIN_DIR}`, `${dataDir}:${dataDir}`];
    if (replicaDir) binds.push(`${replicaDir}:${replicaDir}`);
    for (const [name, mode] of Object.entries(PATH_VARIABLES)) {
      const path = handed[name];
      if (path === undefined) continue;
      if (!isAbsolute(path)) throw new Error(`${name} must be an absolute path to be handed to the plugin container, got "${path}"`);
      binds.push(`${await onHost(path, name)}:${path}:${mode}`);
    }
    const envList = Object.entries(env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`);
    // Keyed: the environment may hold credentials, and a label is readable by anything that lists containers.
    const digest = createHmac('sha256', this.digestKey()).update(JSON.stringify({ image, envList, binds })).digest('hex').slice(0, 32);
    return {
      name,
      image,
      env: envList,
      binds,
      labels: { [COMPONENT_LABEL]: 'storage-plugin', [STORAGE_DRIVER_LABEL]: this.config.storageDriver, [CONFIG_DIGEST_LABEL]: digest },
      lifetime: 'service',
    };
  }
}
