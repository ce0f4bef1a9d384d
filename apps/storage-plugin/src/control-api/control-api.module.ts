import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PluginGauges } from '../metrics/plugin-gauges';
import { VolumesModule } from '../volumes/volumes.module';
import { ControlApiRouter } from './control-api.router';
import { ControlApiServer } from './control-api.server';
import { MetricsHttpServer } from './metrics-http.server';

/** The Device's control API on STORAGE_PLUGIN_SOCKET (with /health and /metrics), and /metrics on STORAGE_METRICS_ADDRESS. */
@Module({
  imports: [KeysModule, VolumesModule, MetricsModule],
  providers: [ControlApiRouter, ControlApiServer, PluginGauges, MetricsHttpServer],
})
export class ControlApiModule {}
