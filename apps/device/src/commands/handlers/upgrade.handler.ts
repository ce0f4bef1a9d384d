import { Inject, Injectable } from '@nestjs/common';
import { CommandType, EmptyParamsDto, ErrorCode, ProtocolError, UpgradeResultDto, protocolError } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../../config/device-config';
import { UpgradeService } from '../../upgrade/upgrade.service';
import { CommandHandler } from '../command-handler';

/** UpgradeCommand.run (§2): only with AUTO_UPDATE=true. */
@Injectable()
export class UpgradeHandler implements CommandHandler<EmptyParamsDto, UpgradeResultDto> {
  readonly type = CommandType.UpgradeRun;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly upgrades: UpgradeService,
  ) {}

  refusal(): ProtocolError | undefined {
    return this.config.autoUpdate ? undefined : protocolError(ErrorCode.NOT_ALLOWED, 'This device does not update itself (AUTO_UPDATE is not true).');
  }

  lockKey(): string {
    return 'upgrade';
  }

  execute(): Promise<UpgradeResultDto> {
    return this.upgrades.upgrade();
  }
}
