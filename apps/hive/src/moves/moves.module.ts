import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { CommandsModule } from '../commands/commands.module';
import { Clock } from '../common/clock';
import { DatabaseModule } from '../database/database.module';
import { DevicesModule } from '../devices/devices.module';
import { KeysModule } from '../keys/keys.module';
import { LeasesModule } from '../leases/leases.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ReportsModule } from '../reports/reports.module';
import { SessionsModule } from '../sessions/sessions.module';
import { MoveRepository } from './move.repository';
import { MoveService } from './move.service';
import { StrayCopiesService } from './stray-copies.service';

@Module({
  imports: [DatabaseModule, AppsModule, CommandsModule, DevicesModule, SessionsModule, ReportsModule, KeysModule, MetricsModule, LeasesModule],
  providers: [Clock, MoveRepository, MoveService, StrayCopiesService],
  exports: [MoveService, StrayCopiesService],
})
export class MovesModule {}
