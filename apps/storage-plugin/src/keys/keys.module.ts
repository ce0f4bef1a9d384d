import { Module } from '@nestjs/common';
import { KeyRegistry } from './key-registry.service';
import { OpenPgpKeyAdapter } from './openpgp-key.adapter';

/** The in-memory key registry. */
@Module({ providers: [OpenPgpKeyAdapter, KeyRegistry], exports: [KeyRegistry] })
export class KeysModule {}
