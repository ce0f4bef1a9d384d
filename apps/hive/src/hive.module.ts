import { DynamicModule, Module } from '@nestjs/common';
import { devtoolsModule } from '@mosaic/ops';
import { ApiModule } from './api/api.module';
import { ChangesModule } from './changes/changes.module';
import { ClusterModule } from './cluster/cluster.module';
import { HiveConfigModule } from './config/config.module';
import { HiveOptions } from './config/hive-config';
import { resolveHiveConfig } from './config/load-hive-config';
import { ConsoleEventsModule } from './console-events/console-events.module';
import { GatewayModule } from './gateway/gateway.module';
import { MonitorModule } from './monitor/monitor.module';

/**
 * The whole Hive, built from options rather than the environment, so a test can run one
 * in-process: `Test.createTestingModule({ imports: [HiveModule.forRoot({ adminToken, dbPath: ':memory:', port: 0 })] })`.
 */
@Module({})
export class HiveModule {
  static forRoot(options: HiveOptions): DynamicModule {
    const config = resolveHiveConfig(options);
    return {
      module: HiveModule,
      imports: [
        HiveConfigModule.forRoot(config),
        ChangesModule,
        ClusterModule,
        GatewayModule,
        ConsoleEventsModule,
        ApiModule,
        MonitorModule,
        // DEVTOOLS=true: Nest's devtools server on loopback (README, "Nest devtools": it runs code sent to it).
        ...(config.devtoolsServer ? [devtoolsModule(config.devtoolsServer)] : []),
      ],
    };
  }
}
