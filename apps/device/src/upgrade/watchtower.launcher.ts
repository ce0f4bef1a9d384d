import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException, UpgradeResultDto } from '@mosaic/protocol';
import { COMPONENT_LABEL } from '../common/labels';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { ContainerDetails, DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { OwnContainerService } from '../docker/own-container.service';
import { StoragePluginInstaller } from '../storage/storage-plugin-installer.service';

/** Where Watchtower finds the engine inside its own container. */
const WATCHTOWER_SOCKET = '/var/run/docker.sock';

/**
 * UPDATER=watchtower: starts UPDATER_IMAGE once on the device's own container and the plugin
 * container it installed. Watchtower pulls the references those run and recreates them; it
 * cannot reach a named target or roll back, and success only means it started.
 */
@Injectable()
export class WatchtowerLauncher {
  private readonly logger = new Logger('Upgrade');

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly engine: DockerEngineAdapter,
    private readonly ownContainer: OwnContainerService,
    private readonly pluginInstaller: StoragePluginInstaller,
  ) {}

  async launch(own: ContainerDetails): Promise<UpgradeResultDto> {
    // The plugin container this device installed, by the id it recorded: labels are anyone's to set.
    const plugin = await this.pluginInstaller.installedContainer();
    const targets = plugin ? [own.name, plugin] : [own.name];
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
        binds: [`${hostSocket}:${WATCHTOWER_SOCKET}`],
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
