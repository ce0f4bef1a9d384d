import { Global, Module } from '@nestjs/common';
import { ChangeFeed } from './change-feed';

/** Global: every service that changes what the REST API shows may publish, without a module import each. */
@Global()
@Module({ providers: [ChangeFeed], exports: [ChangeFeed] })
export class ChangesModule {}
