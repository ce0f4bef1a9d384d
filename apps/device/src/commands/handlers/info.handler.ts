import { Injectable } from '@nestjs/common';
import { CommandType, EmptyParamsDto, InfoResultDto } from '@mosaic/protocol';
import { SystemInfoService } from '../../system/system-info.service';
import { CommandHandler } from '../command-handler';

/** SystemCommand.info: the machine, the device, the engine, Compose and the plugin. */
@Injectable()
export class InfoHandler implements CommandHandler<EmptyParamsDto, InfoResultDto> {
  readonly type = CommandType.Info;

  constructor(private readonly system: SystemInfoService) {}

  execute(): Promise<InfoResultDto> {
    return this.system.info();
  }
}
