import { Module } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AuthThrottle } from './auth-throttle.service';

/** One counter store for the REST API and the device gateway: a Hive is one process. */
@Module({
  providers: [ThrottlerStorageService, AuthThrottle],
  exports: [AuthThrottle],
})
export class AuthThrottleModule {}
