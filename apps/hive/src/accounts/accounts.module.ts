import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccountRepository } from './account.repository';
import { AccountService } from './account.service';

@Module({
  imports: [DatabaseModule, SessionsModule],
  providers: [AccountRepository, AccountService],
  exports: [AccountService],
})
export class AccountsModule {}
