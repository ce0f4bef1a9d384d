import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { HiveModule } from '../hive/hive.module';
import { MetricsModule } from '../metrics/metrics.module';
import { StorageModule } from '../storage/storage.module';
import { DeviceHealthService } from './device-health.service';
import { MonitorRoutes } from './monitor-server';
import { StateGauges } from './state-gauges';

/** Health, Prometheus metrics and the devtools graph over HTTP on MONITOR_ADDRESS (MonitorServer, node:http). */
@Module({
  imports: [HiveModule, StorageModule, MetricsModule, DockerModule],
  providers: [DeviceHealthService, StateGauges, MonitorRoutes],
  exports: [MonitorRoutes],
})
export class MonitorModule {}
