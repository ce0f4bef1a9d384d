import { Controller, Get } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HIVE_VERSION } from '../common/hive-version';
import { ErrorSchema, HiveHealthSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';

/** Open on purpose: load balancers and the e2e tests probe it without a token. */
@ApiTags('health')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/health`)
export class HealthController {
  @Get()
  @ApiOkResponse({ type: HiveHealthSchema })
  health(): { ok: true; version: string } {
    return { ok: true, version: HIVE_VERSION };
  }
}
