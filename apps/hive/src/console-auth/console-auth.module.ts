import { Module } from '@nestjs/common';
import { AuthThrottleModule } from '../auth/auth-throttle.module';
import { Clock } from '../common/clock';
import { DatabaseModule } from '../database/database.module';
import { ConsoleAuthService } from './console-auth.service';
import { ConsoleSessionRepository } from './console-session.repository';
import { ConsoleUserRepository } from './console-user.repository';

@Module({
  imports: [DatabaseModule, AuthThrottleModule],
  providers: [Clock, ConsoleUserRepository, ConsoleSessionRepository, ConsoleAuthService],
  exports: [ConsoleAuthService],
})
export class ConsoleAuthModule {}
