import { Injectable } from '@nestjs/common';
import { CommandType, DiskSpaceResultDto, EmptyParamsDto } from '@mosaic/protocol';
import { SystemInfoService } from '../../system/system-info.service';
import { CommandHandler } from '../command-handler';

/** SystemCommand.diskSpace: statfs of APPS_DIR and the volumes' folder. */
@Injectable()
export class DiskSpaceHandler implements CommandHandler<EmptyParamsDto, DiskSpaceResultDto> {
  readonly type = CommandType.DiskSpace;

  constructor(private readonly system: SystemInfoService) {}

  async execute(): Promise<DiskSpaceResultDto> {
    return { paths: await this.system.diskSpace() };
  }
}
