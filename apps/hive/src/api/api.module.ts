import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { ReportsModule } from '../reports/reports.module';
import { AccountController } from './account.controller';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiExceptionFilter } from './api-exception.filter';
import { DeviceCommandsController } from './device-commands.controller';
import { DeviceReportsController } from './device-reports.controller';
import { DevicesController } from './devices.controller';
import { HealthController } from './health.controller';

@Module({
  imports: [AccountsModule, DevicesModule, CommandsModule, ReportsModule],
  controllers: [HealthController, DevicesController, AccountController, DeviceCommandsController, DeviceReportsController],
  providers: [AdminTokenGuard, { provide: APP_FILTER, useClass: ApiExceptionFilter }],
})
export class ApiModule {}
