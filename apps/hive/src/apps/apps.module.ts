import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module';
import { DatabaseModule } from '../database/database.module';
import { DevicesModule } from '../devices/devices.module';
import { ReportsModule } from '../reports/reports.module';
import { AppRepository } from './app.repository';
import { AppsService } from './apps.service';
import { CatalogService } from './catalog.service';

@Module({
  imports: [DatabaseModule, CommandsModule, DevicesModule, ReportsModule],
  providers: [CatalogService, AppRepository, AppsService],
  // AppRepository too: a move reads an app's stored start and reassigns it.
  exports: [CatalogService, AppsService, AppRepository],
})
export class AppsModule {}
