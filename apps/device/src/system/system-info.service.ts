import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiskPathDto, ErrorCode, InfoResultDto, ProtocolException } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ComposeCliAdapter } from '../docker/compose-cli.adapter';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { StorageService } from '../storage/storage.service';
import { HostSystemAdapter } from './host-system.adapter';
import { unsupportedVersions } from './supported-versions';

/** The answers to SystemCommand.diskSpace and SystemCommand.info. */
@Injectable()
export class SystemInfoService implements OnApplicationBootstrap {
  private readonly logger = new Logger('System');

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly host: HostSystemAdapter,
    private readonly engine: DockerEngineAdapter,
    private readonly compose: ComposeCliAdapter,
    private readonly storage: StorageService,
  ) {}

  /** Says at boot, in one line each, when the engine or Compose is older than Mosaic supports. */
  onApplicationBootstrap(): void {
    void this.checkVersions();
  }

  async checkVersions(): Promise<string[]> {
    const [engine, compose] = await Promise.all([
      this.engine.version().catch(() => undefined),
      this.compose.version().catch(() => undefined),
    ]);
    const problems = unsupportedVersions({ engineApi: engine?.apiVersion, engineVersion: engine?.version, compose });
    for (const problem of problems) this.logger.error(`${problem}; apps may fail to start or stop`);
    return problems;
  }

  /** APPS_DIR and the volumes' folder; a folder that does not exist yet is left out. */
  async diskSpace(): Promise<DiskPathDto[]> {
    const paths = [...new Set([this.config.appsDir, this.config.volumesDir])];
    const out: DiskPathDto[] = [];
    for (const path of paths) {
      try {
        out.push({ path, ...(await this.host.diskUsage(path)) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.logger.debug(`${path} does not exist; not reported`);
      }
    }
    return out;
  }

  async info(): Promise<InfoResultDto> {
    const [engine, composeVersion] = await Promise.all([
      this.engine.version().catch((err: Error) => {
        throw new ProtocolException(ErrorCode.DOCKER_ERROR, `The Docker engine does not answer: ${err.message}`);
      }),
      this.compose.version().catch((err: Error) => {
        throw new ProtocolException(ErrorCode.DOCKER_ERROR, err.message);
      }),
    ]);
    return {
      ...this.host.facts(),
      deviceVersion: DEVICE_VERSION,
      dockerVersion: engine.version,
      composeVersion,
      storagePluginVersion: await this.storage.pluginVersion(),
    };
  }
}
