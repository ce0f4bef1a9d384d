import { Controller, Get } from '@nestjs/common';
import { HIVE_VERSION } from '../common/hive-version';
import { API_PREFIX } from './api-routes';

/** Open on purpose: load balancers and the e2e tests probe it without a token. */
@Controller(`${API_PREFIX}/health`)
export class HealthController {
  @Get()
  health(): { ok: true; version: string } {
    return { ok: true, version: HIVE_VERSION };
  }
}
