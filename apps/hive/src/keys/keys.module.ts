import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { DatabaseModule } from '../database/database.module';
import { KeyRepository } from './key.repository';
import { KeysService } from './keys.service';

@Module({
  imports: [DatabaseModule, AccountsModule],
  providers: [KeyRepository, KeysService],
  exports: [KeysService],
})
export class KeysModule {}
