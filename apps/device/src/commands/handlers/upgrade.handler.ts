import { Inject, Injectable } from '@nestjs/common';
import { CommandType, ErrorCode, ProtocolError, UpgradeParamsDto, UpgradeResultDto, protocolError } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../../config/device-config';
import { UpgradeService } from '../../upgrade/upgrade.service';
import { CommandContext, CommandHandler, ResumedCommand } from '../command-handler';

/** One upgrade at a time, a resumed one included. */
const UPGRADE_LOCK = 'upgrade';

/** UpgradeCommand.run (§2.6): only with AUTO_UPDATE=true. */
@Injectable()
export class UpgradeHandler implements CommandHandler<UpgradeParamsDto, UpgradeResultDto> {
  readonly type = CommandType.UpgradeRun;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly upgrades: UpgradeService,
  ) {}

  refusal(): ProtocolError | undefined {
    return this.config.autoUpdate ? undefined : protocolError(ErrorCode.NOT_ALLOWED, 'This device does not update itself (AUTO_UPDATE is not true).');
  }

  lockKey(): string {
    return UPGRADE_LOCK;
  }

  execute(params: UpgradeParamsDto, context: CommandContext): Promise<UpgradeResultDto> {
    return this.upgrades.upgrade(context.id, params);
  }

  /** The updater replaced this device (or put it back) while the command ran: its outcome ends it. */
  resume(id: string): ResumedCommand<UpgradeResultDto> | undefined {
    const done = this.upgrades.resume(id);
    return done && { lockKey: UPGRADE_LOCK, done };
  }
}
