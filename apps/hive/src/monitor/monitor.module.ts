import { Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SessionsModule } from '../sessions/sessions.module';
import { HealthController } from './health.controller';
import { HiveGauges } from './hive-gauges';
import { HiveStatsRepository } from './hive-stats.repository';
import { MetricsController } from './metrics.controller';

/** GET /api/health (the database answers) and GET /metrics (Prometheus), both without a token. */
@Module({
  imports: [DatabaseModule, SessionsModule, MetricsModule],
  controllers: [HealthController, MetricsController],
  providers: [Clock, HiveStatsRepository, HiveGauges],
})
export class MonitorModule {}
