import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ConsoleSettingsRepository } from './console-settings.repository';
import { ConsoleSettingsService } from './console-settings.service';

@Module({
  imports: [DatabaseModule],
  providers: [ConsoleSettingsRepository, ConsoleSettingsService],
  exports: [ConsoleSettingsService],
})
export class SettingsModule {}
