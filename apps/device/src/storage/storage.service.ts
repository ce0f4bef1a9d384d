import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException, ReplicatedVolumeDto, VolumeReportDto } from '@mosaic/protocol';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { appVolumeName, linkVolumeName } from './volume-names';

/** Marks the volumes the device made, so they can be told from anything else on the engine. */
export const VOLUME_INSTANCE_LABEL = 'io.mosaic.instance';
export const VOLUME_ROLE_LABEL = 'io.mosaic.role';

/**
 * The device's view of the storage plugin. Until the Mosaic storage plugin is wired in, the two
 * volumes of an instance are plain `local` volumes: not yet encrypted, not yet replicated, and
 * so reported as never replicated.
 */
@Injectable()
export class StorageService {
  private readonly logger = new Logger('Storage');
  static readonly DRIVER = 'local';

  constructor(private readonly engine: DockerEngineAdapter) {}

  async pluginVersion(): Promise<string> {
    return 'not installed';
  }

  /** Creates (or finds) the instance's two volumes before Compose starts it. */
  async prepareVolumes(instance: string): Promise<string[]> {
    const names = [appVolumeName(instance), linkVolumeName(instance)];
    try {
      for (const [name, role] of [[names[0], 'app'], [names[1], 'link']]) {
        await this.engine.ensureVolume(name, StorageService.DRIVER, { [VOLUME_INSTANCE_LABEL]: instance, [VOLUME_ROLE_LABEL]: role });
      }
    } catch (err) {
      throw new ProtocolException(ErrorCode.STORAGE_UNAVAILABLE, `Cannot create the volumes of ${instance}: ${(err as Error).message}`);
    }
    return names;
  }

  /** The state of both volumes after a stop (replication comes with the plugin). */
  async afterStop(instance: string): Promise<ReplicatedVolumeDto[]> {
    this.logger.debug(`volumes of ${instance} kept locally`);
    return [appVolumeName(instance), linkVolumeName(instance)].map((name) => ({ name, lastReplicatedAt: null }));
  }

  async volumes(): Promise<VolumeReportDto[]> {
    return [];
  }
}
