import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { HiveModule } from '../hive/hive.module';
import { SystemModule } from '../system/system.module';
import { COMMAND_HANDLERS } from './command-handler';
import { CommandIntakeService } from './command-intake.service';
import { CommandJournalService } from './command-journal.service';
import { CommandRegistry } from './command-registry';
import { DiskSpaceHandler } from './handlers/disk-space.handler';
import { AppCommandHandler } from './handlers/app-command.handler';
import { InfoHandler } from './handlers/info.handler';
import { SchedulerPrepareHandler } from './handlers/scheduler-prepare.handler';
import { SchedulerReplicateHandler } from './handlers/scheduler-replicate.handler';
import { SchedulerStartHandler } from './handlers/scheduler-start.handler';
import { SchedulerStopHandler } from './handlers/scheduler-stop.handler';
import { UpgradeHandler } from './handlers/upgrade.handler';
import { UpgradeModule } from '../upgrade/upgrade.module';
import { MetricsModule } from '../metrics/metrics.module';

/** Adding a command type: write its handler, then list it here. Nothing else can run. */
const HANDLERS = [
  SchedulerStartHandler,
  SchedulerStopHandler,
  SchedulerPrepareHandler,
  SchedulerReplicateHandler,
  DiskSpaceHandler,
  InfoHandler,
  AppCommandHandler,
  UpgradeHandler,
];

/** The whitelist of commands and their intake (validation, idempotency, BUSY, results). */
@Module({
  imports: [HiveModule, SystemModule, AppsModule, UpgradeModule, MetricsModule],
  providers: [
    ...HANDLERS,
    { provide: COMMAND_HANDLERS, useFactory: (...handlers: unknown[]) => handlers, inject: HANDLERS },
    CommandRegistry,
    CommandJournalService,
    CommandIntakeService,
  ],
  exports: [CommandIntakeService],
})
export class CommandsModule {}
