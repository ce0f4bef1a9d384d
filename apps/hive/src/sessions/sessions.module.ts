import { Module } from '@nestjs/common';
import { DeviceSessionRegistry } from './device-session-registry';

@Module({ providers: [DeviceSessionRegistry], exports: [DeviceSessionRegistry] })
export class SessionsModule {}
