import { DynamicModule, Module } from '@nestjs/common';
import { devtoolsModule } from '@mosaic/ops';
import { CommandsModule } from './commands/commands.module';
import { CommonModule } from './common/common.module';
import { ConfigModule } from './config/config.module';
import { DeviceConfig } from './config/device-config';
import { MonitorModule } from './monitor/monitor.module';
import { TelemetryModule } from './telemetry/telemetry.module';

/** The Device, built from a validated config so a test can run one in-process. */
@Module({})
export class DeviceModule {
  static forRoot(config: DeviceConfig): DynamicModule {
    return {
      module: DeviceModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        CommandsModule,
        TelemetryModule,
        MonitorModule,
        // Only with DEVTOOLS_ALLOW_CODE=true: that server runs code sent to it (README, "Health, metrics and logs").
        ...(config.devtoolsServer ? [devtoolsModule(config.devtoolsServer)] : []),
      ],
    };
  }
}
