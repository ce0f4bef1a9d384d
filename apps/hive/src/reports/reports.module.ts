import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ReportRepository } from './report.repository';
import { ReportsService } from './reports.service';

@Module({
  imports: [DatabaseModule],
  providers: [ReportRepository, ReportsService],
  exports: [ReportsService],
})
export class ReportsModule {}
