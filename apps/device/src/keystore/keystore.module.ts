import { Module } from '@nestjs/common';
import { HiveModule } from '../hive/hive.module';
import { KeyCryptoAdapter } from './key-crypto.adapter';
import { KeysAheadService } from './keys-ahead.service';
import { KeystoreService } from './keystore.service';

/** The two key pairs of each instance, protected by the passphrase and kept in Hive. */
@Module({ imports: [HiveModule], providers: [KeyCryptoAdapter, KeystoreService, KeysAheadService], exports: [KeystoreService, KeysAheadService] })
export class KeystoreModule {}
