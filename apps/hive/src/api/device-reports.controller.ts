import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { DevicesService } from '../devices/devices.service';
import { LatestReports, ReportsService } from '../reports/reports.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';

@Controller(`${API_PREFIX}/devices/:deviceId/reports`)
@UseGuards(AdminTokenGuard)
export class DeviceReportsController {
  constructor(
    private readonly devices: DevicesService,
    private readonly reports: ReportsService,
  ) {}

  /** The newest report of each kind, null for a kind not reported yet. */
  @Get()
  latest(@Param('deviceId') deviceId: string): LatestReports {
    this.devices.require(deviceId);
    return this.reports.latest(deviceId);
  }
}
