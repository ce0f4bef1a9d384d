import { Injectable } from '@nestjs/common';
import { CommandType, SchedulerStopParamsDto, StopResultDto } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/app-lifecycle.service';
import { CommandHandler } from '../command-handler';

/** SchedulerAction.stop (§2). */
@Injectable()
export class SchedulerStopHandler implements CommandHandler<SchedulerStopParamsDto, StopResultDto> {
  readonly type = CommandType.SchedulerStop;

  constructor(private readonly lifecycle: AppLifecycleService) {}

  lockKey(params: SchedulerStopParamsDto): string {
    return params.instance;
  }

  execute(params: SchedulerStopParamsDto): Promise<StopResultDto> {
    return this.lifecycle.stop(params);
  }
}
