import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ErrorCode, Events, ProtocolException, UpgradeParamsDto, UpgradeResultDto } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { COMPONENT_LABEL } from '../common/labels';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ContainerDetails, DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { OwnContainerService } from '../docker/own-container.service';
import { OutboxService } from '../hive/outbox.service';
import { StoragePluginInstaller } from '../storage/storage-plugin-installer.service';
import { HostSystemAdapter } from '../system/host-system.adapter';
import { UPDATER_RECORDS_DIR, UPDATER_SOCKET, UpgradePlan, UpgradeRecordStore } from './upgrade-record.store';
import { upgradeTarget } from './upgrade-target';
import { WatchtowerLauncher } from './watchtower.launcher';

/** The updater's command in the device's own image (main.ts). */
const UPDATER_COMMAND = ['node', 'dist/apps/device/main.js', 'updater', UPDATER_RECORDS_DIR];
/** Beyond UPGRADE_TIMEOUT_S: the old device's stop, the new one's creation, a rollback. */
const UPDATER_MARGIN_MS = 5 * 60 * 1000;

/**
 * UpgradeCommand.run (docs/protocol.md §2.6). With UPDATER=mosaic it pulls the target, hands the
 * updater a plan in STATE_DIR/upgrade and starts it; the command ends when the updater wrote its
 * outcome, reported by whichever device then runs: the new one (it resumes the command from the
 * shared journal) or the old one, put back.
 */
@Injectable()
export class UpgradeService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Upgrade');
  /** Aborted when the device stops: a wait for the updater must not keep the process alive (the updater waits for it to stop). */
  private readonly stopping = new AbortController();

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly engine: DockerEngineAdapter,
    private readonly ownContainer: OwnContainerService,
    private readonly pluginInstaller: StoragePluginInstaller,
    private readonly host: HostSystemAdapter,
    private readonly records: UpgradeRecordStore,
    private readonly watchtower: WatchtowerLauncher,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // The updater waits for the Hive to have heard the new version: the acknowledgement is the proof.
    this.outbox.onDelivered((event, payload) => {
      if (event !== Events.reportVersion) return;
      void this.versionAcknowledged((payload as { version: string }).version).catch((err: Error) =>
        this.logger.warn(`cannot note the acknowledged version: ${err.message}`),
      );
    });
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
  }

  async upgrade(commandId: string, params: UpgradeParamsDto): Promise<UpgradeResultDto> {
    const own = await this.ownContainer.details();
    if (!own) {
      throw new ProtocolException(
        ErrorCode.NOT_IN_CONTAINER,
        'The device does not run in a container, so it cannot update itself; update it the way it was installed.',
      );
    }
    const disk = await this.host.diskUsage(this.config.appsDir);
    const needed = this.config.upgradeMinFreeMb * 1024 * 1024;
    if (disk.availableBytes < needed) {
      throw new ProtocolException(
        ErrorCode.INSUFFICIENT_DISK,
        `Only ${Math.floor(disk.availableBytes / 1024 / 1024)} MiB are free on ${this.config.appsDir}; an upgrade needs ${this.config.upgradeMinFreeMb} MiB to pull new images.`,
      );
    }
    if (this.config.updater === 'watchtower') return this.watchtower.launch(own);
    return this.awaitOutcome(await this.startUpdater(commandId, params, own));
  }

  /**
   * An UpgradeCommand.run a restart cut off: the updater replaced this device (or put it back)
   * while the command ran. Its outcome is this command's result; undefined for any other command.
   */
  resume(commandId: string): Promise<UpgradeResultDto> | undefined {
    const plan = this.records.plan();
    if (plan?.commandId !== commandId || !plan.updater) return undefined;
    this.logger.log(`command ${commandId} upgrades ${plan.device.name} to ${plan.to.image}: waiting for the updater's outcome`);
    return this.awaitOutcome(plan);
  }

  /** The Hive acknowledged this device's report.version: while an upgrade waits for that, it is noted for the updater. */
  async versionAcknowledged(version: string): Promise<void> {
    const plan = this.records.plan();
    if (!plan || this.records.outcome(plan.commandId)) return;
    const own = await this.ownContainer.details();
    if (!own) return;
    this.records.writeAcknowledged({ containerId: own.id, version, at: this.clock.now().toISOString() });
  }

  private async startUpdater(commandId: string, params: UpgradeParamsDto, own: ContainerDetails): Promise<UpgradePlan> {
    const target = upgradeTarget(own.image, params, DEVICE_VERSION);
    if (!this.config.dockerHost.startsWith('unix://')) {
      throw new ProtocolException(
        ErrorCode.DOCKER_ERROR,
        `The updater needs the engine's unix socket; DOCKER_HOST is ${this.config.dockerHost}.`,
      );
    }
    const socket = this.config.dockerHost.slice('unix://'.length);
    const hostSocket = (await this.ownContainer.hostPath(socket, own)) ?? socket;
    const recordsOnHost = await this.ownContainer.hostPath(this.records.dir, own);
    if (!recordsOnHost) {
      throw new ProtocolException(
        ErrorCode.INTERNAL,
        `STATE_DIR (${this.config.stateDir}) is not on a mount of the device's container: its identity, outbox and journal would not survive a new container. Mount a volume there.`,
      );
    }

    const toImageId = await this.pull(target.image);
    const plan: UpgradePlan = {
      commandId,
      createdAt: this.clock.now().toISOString(),
      timeoutS: this.config.upgradeTimeoutS,
      named: target.named,
      device: { containerId: own.id, name: own.name },
      from: { image: own.image, imageId: own.imageId, version: DEVICE_VERSION },
      to: { image: target.image, imageId: toImageId, ...(target.version !== undefined ? { version: target.version } : {}) },
    };
    this.records.startPlan(plan);
    try {
      // The updater is this very image: known code decides, whatever the target does.
      const containerId = await this.engine.createContainer({
        name: `${own.name}-updater-${commandId.slice(0, 8)}`,
        image: own.imageId,
        cmd: UPDATER_COMMAND,
        env: [`LOG_FORMAT=${this.config.logFormat}`],
        binds: [`${hostSocket}:${UPDATER_SOCKET}`, `${recordsOnHost}:${UPDATER_RECORDS_DIR}`],
        labels: { [COMPONENT_LABEL]: 'updater', 'io.mosaic.targets': own.name },
        lifetime: 'once',
      });
      const started: UpgradePlan = { ...plan, updater: { containerId, image: own.imageId } };
      this.records.updatePlan(started);
      await this.engine.startContainer(containerId);
      this.logger.log(`updater ${containerId.slice(0, 12)} replaces ${own.name} (${own.image}) with ${target.image}`);
      return started;
    } catch (err) {
      throw new ProtocolException(ErrorCode.DOCKER_ERROR, `The updater could not be started: ${(err as Error).message}`);
    }
  }

  /**
   * Pulls the target, within UPGRADE_TIMEOUT_S; one the engine has already does without the
   * registry. Returns its image id.
   */
  private async pull(image: string): Promise<string> {
    const limitS = this.config.upgradeTimeoutS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not pulled within ${limitS} s`)), limitS * 1000);
    });
    const pulled = await Promise.race([this.engine.pullImage(image), deadline]).then(
      () => undefined,
      (err: Error) => err,
    );
    clearTimeout(timer);
    const id = await this.engine.imageId(image);
    if (id) {
      if (pulled) this.logger.warn(`could not pull ${image} (${pulled.message}); the engine has it, that one is taken`);
      return id;
    }
    throw new ProtocolException(
      ErrorCode.DOCKER_ERROR,
      `The image ${image} could not be pulled: ${pulled?.message ?? 'the engine does not have it'}.`,
    );
  }

  /** Waits for the updater to end (the engine removes it), then turns its outcome into the command's. */
  private async awaitOutcome(plan: UpgradePlan): Promise<UpgradeResultDto> {
    const deadline = Date.parse(plan.createdAt) + plan.timeoutS * 1000 + UPDATER_MARGIN_MS;
    if (plan.updater) {
      await this.engine
        .waitRemoved(plan.updater.containerId, Math.max(0, deadline - this.clock.now().getTime()), this.stopping.signal)
        .catch((err: Error) => this.logger.warn(`the updater: ${err.message}`));
    }
    // This device stops (the updater stopped it, most likely): the command stays unfinished in the
    // journal, and the device that runs next answers it.
    if (this.stopping.signal.aborted) return new Promise<never>(() => undefined);
    const outcome = this.records.outcome(plan.commandId);
    if (!outcome) {
      throw new ProtocolException(
        ErrorCode.INTERNAL,
        `The updater ended without an outcome; ${plan.device.name} may wait aside as ${plan.device.name}-previous-${plan.commandId.slice(0, 8)}.`,
      );
    }
    if (outcome.outcome !== 'failed') await this.removeUnused(outcome.outcome === 'succeeded' ? plan.from.imageId : plan.to.imageId);
    if (outcome.outcome === 'succeeded') {
      return {
        updater: { image: plan.updater?.image ?? plan.from.imageId, containerId: plan.updater?.containerId ?? '' },
        targets: [plan.device.name],
        ...(plan.named ? { version: DEVICE_VERSION, image: plan.to.image } : {}),
      };
    }
    if (outcome.outcome === 'rolled_back') {
      throw new ProtocolException(
        ErrorCode.ROLLED_BACK,
        outcome.message ?? `${plan.to.image} did not come up; ${plan.from.image} runs again.`,
        {
          reason: outcome.reason ?? 'start_failed',
          image: plan.to.image,
          ...(plan.to.version !== undefined ? { version: plan.to.version } : {}),
        },
      );
    }
    throw new ProtocolException(ErrorCode.DOCKER_ERROR, outcome.message ?? 'The upgrade failed.');
  }

  /**
   * The image the device no longer runs (the old one after a success, the target after a
   * rollback) and the plugin image this boot replaced: removed unless something uses them.
   */
  private async removeUnused(deviceImageId: string): Promise<void> {
    const running = (await this.ownContainer.details())?.imageId;
    const unused = [deviceImageId, this.pluginInstaller.replacedImageId].filter((id): id is string => !!id && id !== running);
    for (const id of unused) {
      const removed = await this.engine.removeImage(id).catch((err: Error) => `not removed (${err.message})`);
      this.logger.log(`image ${id.slice(0, 19)}: ${removed}`);
    }
  }
}
