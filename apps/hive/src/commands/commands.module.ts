import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { DevicesModule } from '../devices/devices.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CommandCompletions } from './command-completions';
import { CommandRepository } from './command.repository';
import { CommandsService } from './commands.service';

@Module({
  imports: [DatabaseModule, DevicesModule, SessionsModule, MetricsModule],
  providers: [CommandRepository, CommandCompletions, CommandsService],
  exports: [CommandsService],
})
export class CommandsModule {}
