import { Injectable } from '@nestjs/common';
import { CommandType, PrepareResultDto, SchedulerPrepareParamsDto } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/app-lifecycle.service';
import { CommandContext, CommandHandler } from '../command-handler';

/** SchedulerAction.prepare (§2.7): stage a move to this device, or drop the stage. */
@Injectable()
export class SchedulerPrepareHandler implements CommandHandler<SchedulerPrepareParamsDto, PrepareResultDto> {
  readonly type = CommandType.SchedulerPrepare;

  constructor(private readonly lifecycle: AppLifecycleService) {}

  lockKey(params: SchedulerPrepareParamsDto): string {
    return params.instance;
  }

  execute(params: SchedulerPrepareParamsDto, context: CommandContext): Promise<PrepareResultDto> {
    return this.lifecycle.prepare(params, context.progress);
  }

  /**
   * A stage a restart cut off: the plugin (a process of its own) may finish it, or have finished it
   * before the Hive heard: nobody would use or drop it, and it holds a copy of the app's data. Dropped.
   */
  async interrupted(instance: string): Promise<void> {
    await this.lifecycle.prepare({ instance, discard: true }, () => undefined);
  }
}
