import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { InstanceKey } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';

/**
 * An instance's two key pairs as the Hive holds them: public keys, and private keys encrypted with
 * the account passphrase, so the owner can open a replica with stock restic (`mosaic replica
 * password`). Kept after the app is removed: its replicas outlive it.
 */
@Controller(API_PREFIX)
@UseGuards(AdminTokenGuard)
export class AppKeysController {
  constructor(private readonly keys: KeysService) {}

  @Get('apps/:instance/keys')
  list(@Param('instance') instance: string): InstanceKey[] {
    return this.keys.get(instance);
  }
}
