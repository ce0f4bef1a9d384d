import { Module } from '@nestjs/common';
import { HiveModule } from '../hive/hive.module';
import { SystemModule } from '../system/system.module';
import { COMMAND_HANDLERS } from './command-handler';
import { CommandIntakeService } from './command-intake.service';
import { CommandJournalService } from './command-journal.service';
import { CommandRegistry } from './command-registry';
import { DiskSpaceHandler } from './handlers/disk-space.handler';
import { InfoHandler } from './handlers/info.handler';

/** Adding a command type: write its handler, then list it here. Nothing else can run. */
const HANDLERS = [DiskSpaceHandler, InfoHandler];

/** The whitelist of commands and their intake (validation, idempotency, BUSY, results). */
@Module({
  imports: [HiveModule, SystemModule],
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
