import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ReportsModule } from '../reports/reports.module';
import { SessionsModule } from '../sessions/sessions.module';
import { DeviceRepository } from './device.repository';
import { DevicesService } from './devices.service';

@Module({
  imports: [DatabaseModule, SessionsModule, ReportsModule],
  providers: [DeviceRepository, DevicesService],
  exports: [DevicesService],
})
export class DevicesModule {}
