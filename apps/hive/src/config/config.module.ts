import { DynamicModule, Global, Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from './hive-config';

/** Makes the validated config injectable everywhere; nothing else reads the environment. */
@Global()
@Module({})
export class HiveConfigModule {
  static forRoot(config: HiveConfig): DynamicModule {
    return { module: HiveConfigModule, providers: [{ provide: HIVE_CONFIG, useValue: config }], exports: [HIVE_CONFIG] };
  }
}
