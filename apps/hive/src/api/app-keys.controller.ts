import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { InstanceKey } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { ApiAuthGuard } from './api-auth.guard';
import { ErrorSchema, InstanceKeySchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';

/**
 * An instance's two key pairs as the Hive holds them: public keys, and private keys encrypted with
 * the account passphrase, so the owner can open a replica with stock restic (`mosaic replica
 * password`). Kept after the app is removed: its replicas outlive it.
 */
@ApiTags('apps')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(API_PREFIX)
@UseGuards(ApiAuthGuard)
export class AppKeysController {
  constructor(private readonly keys: KeysService) {}

  @Get('apps/:instance/keys')
  @ApiOkResponse({ type: [InstanceKeySchema] })
  async list(@Param('instance') instance: string): Promise<InstanceKey[]> {
    return this.keys.get(instance);
  }
}
