import { Module } from '@nestjs/common';
import { DeviceMetrics } from './device-metrics';

/** The Prometheus registry; a leaf, so any module can record into it without a cycle. */
@Module({
  providers: [DeviceMetrics],
  exports: [DeviceMetrics],
})
export class MetricsModule {}
