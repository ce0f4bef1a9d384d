import { Injectable } from '@nestjs/common';
import { AppCommandResultDto, AppCommandRunParamsDto, CommandType } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/app-lifecycle.service';
import { CommandHandler } from '../command-handler';

/** AppCommand.run (§2.3): only commands the app declared, without a shell. */
@Injectable()
export class AppCommandHandler implements CommandHandler<AppCommandRunParamsDto, AppCommandResultDto> {
  readonly type = CommandType.AppCommandRun;

  constructor(private readonly lifecycle: AppLifecycleService) {}

  lockKey(params: AppCommandRunParamsDto): string {
    return params.instance;
  }

  execute(params: AppCommandRunParamsDto): Promise<AppCommandResultDto> {
    return this.lifecycle.runCommand(params);
  }
}
