import { Injectable } from '@nestjs/common';
import { CommandType, ReplicateResultDto, SchedulerReplicateParamsDto } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/app-lifecycle.service';
import { CommandHandler } from '../command-handler';

/** SchedulerAction.replicate (§2.8): a snapshot of the instance's volumes now, the app left running. */
@Injectable()
export class SchedulerReplicateHandler implements CommandHandler<SchedulerReplicateParamsDto, ReplicateResultDto> {
  readonly type = CommandType.SchedulerReplicate;

  constructor(private readonly lifecycle: AppLifecycleService) {}

  lockKey(params: SchedulerReplicateParamsDto): string {
    return params.instance;
  }

  execute(params: SchedulerReplicateParamsDto): Promise<ReplicateResultDto> {
    return this.lifecycle.replicate(params.instance);
  }
}
