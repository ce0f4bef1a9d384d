import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { CreatedDevice, DeviceView, DevicesService } from '../devices/devices.service';
import { DeviceUpgradeService, UpgradeView } from '../upgrades/device-upgrade.service';
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

  @Delete(':deviceId')
  @HttpCode(HttpStatus.NO_CONTENT)
  revoke(@Param('deviceId') deviceId: string): void {
    this.devices.revoke(deviceId);
  }
}
