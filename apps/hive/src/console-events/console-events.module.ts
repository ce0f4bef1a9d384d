import { Module } from '@nestjs/common';
import { ConsoleAuthModule } from '../console-auth/console-auth.module';
import { ConsoleGateway } from './console.gateway';

@Module({ imports: [ConsoleAuthModule], providers: [ConsoleGateway] })
export class ConsoleEventsModule {}
