import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuthThrottleModule } from '../auth/auth-throttle.module';
import { CommandsModule } from '../commands/commands.module';
import { DatabaseModule } from '../database/database.module';
import { DevicesModule } from '../devices/devices.module';
import { KeysModule } from '../keys/keys.module';
import { MovesModule } from '../moves/moves.module';
import { ReportsModule } from '../reports/reports.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { DeviceGateway } from './device.gateway';
import { DeviceHandshake } from './device-handshake';

@Module({
  imports: [
    DatabaseModule,
    AuthThrottleModule,
    AccountsModule,
    DevicesModule,
    SessionsModule,
    CommandsModule,
    ReportsModule,
    KeysModule,
    UpgradesModule,
    MovesModule,
  ],
  providers: [DeviceHandshake, DeviceGateway],
})
export class GatewayModule {}
