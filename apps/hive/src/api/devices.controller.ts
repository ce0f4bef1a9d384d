import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { UpgradeParamsDto } from '@mosaic/protocol';
import { CreatedDevice, DeviceView, DevicesService } from '../devices/devices.service';
import { DeviceUpgradeService, UpgradeAttemptView, UpgradeView } from '../upgrades/device-upgrade.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';
import { CreateDeviceDto } from './dto/create-device.dto';
import { parseBody } from './request-validation';

export type DeviceWithUpgrade = DeviceView & { upgrade: UpgradeView };

@Controller(`${API_PREFIX}/devices`)
@UseGuards(AdminTokenGuard)
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly upgrades: DeviceUpgradeService,
  ) {}

  /** The only response that ever carries the device's token. */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  create(@Body() body: unknown): CreatedDevice {
    return this.devices.create(parseBody(CreateDeviceDto, body).name);
  }

  @Get()
  list(): DeviceView[] {
    return this.devices.list();
  }

  /** The device, with how keeping it up to date goes. */
  @Get(':deviceId')
  get(@Param('deviceId') deviceId: string): DeviceWithUpgrade {
    return { ...this.devices.get(deviceId), upgrade: this.upgrades.describe(deviceId) };
  }

  @Get(':deviceId/upgrade')
  upgrade(@Param('deviceId') deviceId: string): UpgradeView {
    this.devices.require(deviceId);
    return this.upgrades.describe(deviceId);
  }

  /** Upgrades now, to `{ version?, image? }` or the Hive's target: the attempt, whose outcome GET …/upgrade follows. */
  @Post(':deviceId/upgrade')
  @HttpCode(HttpStatus.ACCEPTED)
  requestUpgrade(@Param('deviceId') deviceId: string, @Body() body: unknown): Promise<UpgradeAttemptView> {
    return this.upgrades.request(deviceId, parseBody(UpgradeParamsDto, body ?? {}));
  }

  @Delete(':deviceId')
  @HttpCode(HttpStatus.NO_CONTENT)
  revoke(@Param('deviceId') deviceId: string): void {
    this.devices.revoke(deviceId);
  }
}
