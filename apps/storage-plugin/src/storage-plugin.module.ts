import { DynamicModule, Module } from '@nestjs/common';
import { devtoolsModule } from '@mosaic/ops';
import { CommonModule } from './common/common.module';
import { ConfigModule } from './config/config.module';
import { PluginConfig } from './config/plugin-config';
import { ControlApiModule } from './control-api/control-api.module';
import { PluginApiModule } from './plugin-api/plugin-api.module';

/** The storage plugin, built from a validated config so a test can run one in-process. */
@Module({})
export class StoragePluginModule {
  static forRoot(config: PluginConfig): DynamicModule {
    return {
      module: StoragePluginModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        PluginApiModule,
        ControlApiModule,
        // Only with DEVTOOLS_ALLOW_CODE=true: that server runs code sent to it (README, "Nest devtools").
        ...(config.devtoolsServer ? [devtoolsModule(config.devtoolsServer)] : []),
      ],
    };
  }
}
