import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DevicesService } from '../devices/devices.service';
import { LatestReports, ReportsService } from '../reports/reports.service';
import { ApiAuthGuard } from './api-auth.guard';
import { ErrorSchema, LatestReportsSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';

@ApiTags('devices')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/devices/:deviceId/reports`)
@UseGuards(ApiAuthGuard)
export class DeviceReportsController {
  constructor(
    private readonly devices: DevicesService,
    private readonly reports: ReportsService,
  ) {}

  /** The newest report of each kind, null for a kind not reported yet. */
  @Get()
  @ApiOkResponse({ type: LatestReportsSchema })
  async latest(@Param('deviceId') deviceId: string): Promise<LatestReports> {
    await this.devices.require(deviceId);
    return this.reports.latest(deviceId);
  }
}
