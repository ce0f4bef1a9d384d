import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException, UpgradeResultDto } from '@mosaic/protocol';
import { COMPONENT_LABEL } from '../common/labels';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { HostSystemAdapter } from '../system/host-system.adapter';
import { OwnContainerService } from '../docker/own-container.service';
import { StoragePluginInstaller } from '../storage/storage-plugin-installer.service';

/** Where the updater finds the engine inside its own container. */
const UPDATER_SOCKET = '/var/run/docker.sock';

/**
 * UpgradeCommand.run: starts the updater container (Watchtower-style, run once) that pulls new
 * images for the device's own container and the storage plugin container it installed, and
 * recreates them.
 */
@Injectable()
export class UpgradeService {
  private readonly logger = new Logger('Upgrade');

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly engine: DockerEngineAdapter,
    private readonly ownContainer: OwnContainerService,
    private readonly pluginInstaller: StoragePluginInstaller,
    private readonly host: HostSystemAdapter,
  ) {}

  async upgrade(): Promise<UpgradeResultDto> {
    const own = await this.ownContainer.details();
    if (!own) {
      throw new ProtocolException(ErrorCode.NOT_IN_CONTAINER, 'The device does not run in a container, so it cannot update itself; update it the way it was installed.');
    }
    // The plugin container this device installed, by the id it recorded: labels are anyone's to set.
    const plugin = await this.pluginInstaller.installedContainer();
    const targets = plugin ? [own.name, plugin] : [own.name];

    const disk = await this.host.diskUsage(this.config.appsDir);
    const needed = this.config.upgradeMinFreeMb * 1024 * 1024;
    if (disk.availableBytes < needed) {
      throw new ProtocolException(
        ErrorCode.INSUFFICIENT_DISK,
        `Only ${Math.floor(disk.availableBytes / 1024 / 1024)} MiB are free on ${this.config.appsDir}; an upgrade needs ${this.config.upgradeMinFreeMb} MiB to pull new images.`,
      );
    }

    const image = this.config.updaterImage;
    try {
      if (!(await this.engine.hasImage(image))) await this.engine.pullImage(image);
      const socket = this.config.dockerHost.replace('unix://', '');
      // The updater talks to the same engine: the host's end of the socket the device has mounted.
      const hostSocket = (await this.ownContainer.hostPath(socket, own)) ?? socket;
      const { apiVersion } = await this.engine.version();
      const containerId = await this.engine.runContainer({
        name: `mosaic-updater-${Date.now()}`,
        image,
        cmd: ['--run-once', '--cleanup', ...targets],
        env: [`DOCKER_API_VERSION=${apiVersion}`],
        binds: [`${hostSocket}:${UPDATER_SOCKET}`],
        labels: { [COMPONENT_LABEL]: 'updater', 'io.mosaic.targets': targets.join(',') },
        lifetime: 'once',
      });
      this.logger.log(`updater ${image} started for ${targets.join(', ')}`);
      return { updater: { image, containerId }, targets };
    } catch (err) {
      throw new ProtocolException(ErrorCode.DOCKER_ERROR, `The updater could not be started: ${(err as Error).message}`);
    }
  }
}
