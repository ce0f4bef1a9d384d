import { Inject, Injectable, Logger } from '@nestjs/common';
import { posix } from 'node:path';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { ContainerDetails, DockerEngineAdapter } from './docker-engine.adapter';
import { SelfContainerAdapter } from './self-container.adapter';

/**
 * The container the device itself runs in, if any: what the updater recreates, and what tells the
 * device where its own folders are on the engine's host when it starts containers beside itself.
 */
@Injectable()
export class OwnContainerService {
  private readonly logger = new Logger('Docker');
  private warned = false;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly engine: DockerEngineAdapter,
    private readonly self: SelfContainerAdapter,
  ) {}

  /** DEVICE_CONTAINER, or the container found from /proc; undefined outside a container. */
  async details(): Promise<ContainerDetails | undefined> {
    const id = this.config.deviceContainer ?? (await this.self.containerId());
    if (!id) return undefined;
    const details = await this.engine.inspectContainer(id);
    if (!details && !this.warned) {
      // Inside a container of another engine (Docker-in-Docker through DOCKER_HOST): its paths are that engine's.
      this.warned = true;
      this.logger.warn(`container ${id.slice(0, 12)} is not on the engine at ${this.config.dockerHost}: paths are taken as that engine's own`);
    }
    return details;
  }

  /**
   * Where `path` (as this process sees it) is on the engine's host: through the mount that holds
   * it when the device runs in a container, the path itself when it does not. Undefined when the
   * device runs in a container and no mount holds the path (the engine cannot reach it).
   */
  async hostPath(path: string, own?: ContainerDetails): Promise<string | undefined> {
    // `..` could climb out of the mount that seems to hold the path: such a path is never mapped.
    if (!posix.isAbsolute(path) || path.split('/').includes('..')) return undefined;
    const container = own ?? (await this.details());
    if (!container) return path;
    const mount = container.mounts
      // A mount without a source on the host (tmpfs) holds nothing another container could share.
      .filter((m) => posix.isAbsolute(m.source))
      .filter((m) => path === m.destination || path.startsWith(`${m.destination.replace(/\/$/, '')}/`))
      .sort((a, b) => b.destination.length - a.destination.length)[0];
    return mount ? posix.join(mount.source, posix.relative(mount.destination, path)) : undefined;
  }
}
