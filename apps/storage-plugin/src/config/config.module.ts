import { DynamicModule, Global, Module } from '@nestjs/common';
import { PLUGIN_CONFIG, PluginConfig } from './plugin-config';

/** Makes the validated config injectable everywhere; nothing else reads the environment. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: PluginConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: PLUGIN_CONFIG, useValue: config }], exports: [PLUGIN_CONFIG] };
  }
}
