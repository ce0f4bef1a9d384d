import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { API_PREFIX } from '../api/api-routes';
import { ErrorSchema, HiveHealthSchema } from '../api/openapi/schemas';
import { HIVE_VERSION } from '../common/hive-version';
import { DatabaseCheck, HiveDatabase } from '../database/database';

export interface HiveHealth {
  ok: boolean;
  version: string;
  database: DatabaseCheck;
}

/** What the controller uses of Express's response. */
interface HttpResponse {
  status(code: number): unknown;
}

/**
 * Open on purpose: load balancers, the image's HEALTHCHECK and the e2e tests probe it without a
 * token. 503 when the database cannot be read, since nothing the Hive does works without it.
 */
@ApiTags('health')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/health`)
export class HealthController {
  constructor(private readonly db: HiveDatabase) {}

  @Get()
  @ApiOkResponse({ type: HiveHealthSchema })
  @ApiServiceUnavailableResponse({ type: HiveHealthSchema, description: 'The database cannot be read.' })
  async health(@Res({ passthrough: true }) res: HttpResponse): Promise<HiveHealth> {
    const database = await this.db.check();
    res.status(database.ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { ok: database.ok, version: HIVE_VERSION, database };
  }
}
