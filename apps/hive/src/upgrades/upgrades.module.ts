import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module';
import { Clock } from '../common/clock';
import { DatabaseModule } from '../database/database.module';
import { DevicesModule } from '../devices/devices.module';
import { ReportsModule } from '../reports/reports.module';
import { DeviceUpgradeService } from './device-upgrade.service';
import { UpgradeRepository } from './upgrade.repository';

@Module({
  imports: [DatabaseModule, CommandsModule, DevicesModule, ReportsModule],
  providers: [Clock, UpgradeRepository, DeviceUpgradeService],
  exports: [DeviceUpgradeService],
})
export class UpgradesModule {}
