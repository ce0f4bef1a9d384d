import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module';
import { AppsModule } from '../apps/apps.module';
import { AuthThrottleModule } from '../auth/auth-throttle.module';
import { ConsoleAuthModule } from '../console-auth/console-auth.module';
import { SettingsModule } from '../settings/settings.module';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { KeysModule } from '../keys/keys.module';
import { MovesModule } from '../moves/moves.module';
import { ReportsModule } from '../reports/reports.module';
import { UpgradesModule } from '../upgrades/upgrades.module';
import { AccountController } from './account.controller';
import { ApiAuthGuard } from './api-auth.guard';
import { AppKeysController } from './app-keys.controller';
import { AppsController } from './apps.controller';
import { CatalogController } from './catalog.controller';
import { DeviceAppsController } from './device-apps.controller';
import { ApiExceptionFilter } from './api-exception.filter';
import { DeviceCommandsController } from './device-commands.controller';
import { DeviceReportsController } from './device-reports.controller';
import { DevicesController } from './devices.controller';
import { MovesController } from './moves.controller';
import { SessionController } from './session.controller';
import { SettingsController } from './settings.controller';

@Module({
  imports: [AuthThrottleModule, ConsoleAuthModule, SettingsModule, AccountsModule, DevicesModule, CommandsModule, ReportsModule, AppsModule, MovesModule, UpgradesModule, KeysModule],
  controllers: [
    DevicesController,
    AccountController,
    DeviceCommandsController,
    DeviceReportsController,
    CatalogController,
    DeviceAppsController,
    AppsController,
    AppKeysController,
    MovesController,
    SessionController,
    SettingsController,
  ],
  providers: [ApiAuthGuard, { provide: APP_FILTER, useClass: ApiExceptionFilter }],
})
export class ApiModule {}
