import { Module } from '@nestjs/common';
import { PluginMetrics } from './plugin-metrics';

@Module({ providers: [PluginMetrics], exports: [PluginMetrics] })
export class MetricsModule {}
