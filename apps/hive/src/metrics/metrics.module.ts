import { Module } from '@nestjs/common';
import { HiveMetrics } from './hive-metrics';

@Module({ providers: [HiveMetrics], exports: [HiveMetrics] })
export class MetricsModule {}
