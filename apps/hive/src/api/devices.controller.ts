import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { CreatedDevice, DeviceView, DevicesService } from '../devices/devices.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';
import { CreateDeviceDto } from './dto/create-device.dto';
import { parseBody } from './request-validation';

@Controller(`${API_PREFIX}/devices`)
@UseGuards(AdminTokenGuard)
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

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

  @Get(':deviceId')
  get(@Param('deviceId') deviceId: string): DeviceView {
    return this.devices.get(deviceId);
  }

  @Delete(':deviceId')
  @HttpCode(HttpStatus.NO_CONTENT)
  revoke(@Param('deviceId') deviceId: string): void {
    this.devices.revoke(deviceId);
  }
}
