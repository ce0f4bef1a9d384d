import { Injectable } from '@nestjs/common';
import { CommandType, SchedulerStartParamsDto, StartResultDto } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/app-lifecycle.service';
import { CommandContext, CommandHandler } from '../command-handler';

/** SchedulerAction.start (§2.1). */
@Injectable()
export class SchedulerStartHandler implements CommandHandler<SchedulerStartParamsDto, StartResultDto> {
  readonly type = CommandType.SchedulerStart;

  constructor(private readonly lifecycle: AppLifecycleService) {}

  lockKey(params: SchedulerStartParamsDto): string {
    return params.instance;
  }

  execute(params: SchedulerStartParamsDto, context: CommandContext): Promise<StartResultDto> {
    return this.lifecycle.start(params, context.progress);
  }
}
