import { DynamicModule, Global, Module } from '@nestjs/common';
import { DEVICE_CONFIG, DeviceConfig } from './device-config';

/** Makes the validated config injectable everywhere; nothing else reads the environment. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: DeviceConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: DEVICE_CONFIG, useValue: config }], exports: [DEVICE_CONFIG] };
  }
}
