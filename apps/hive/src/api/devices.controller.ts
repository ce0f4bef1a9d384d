import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiDefaultResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { UpgradeParamsDto } from '@mosaic/protocol';
import { CreatedDevice, DeviceView, DevicesService } from '../devices/devices.service';
import { DeviceUpgradeService, UpgradeAttemptView, UpgradeView } from '../upgrades/device-upgrade.service';
import { ApiAuthGuard } from './api-auth.guard';
import { API_PREFIX } from './api-routes';
import { CreateDeviceDto } from './dto/create-device.dto';
import { RenameDeviceDto } from './dto/rename-device.dto';
import {
  CreatedDeviceSchema,
  DeviceSchema,
  DeviceWithUpgradeSchema,
  ErrorSchema,
  UpgradeAttemptSchema,
  UpgradeSchema,
} from './openapi/schemas';
import { parseBody } from './request-validation';

export type DeviceWithUpgrade = DeviceView & { upgrade: UpgradeView };

@ApiTags('devices')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/devices`)
@UseGuards(ApiAuthGuard)
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly upgrades: DeviceUpgradeService,
  ) {}

  /** The only response that ever carries the device's token. */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiBody({ type: CreateDeviceDto })
  @ApiCreatedResponse({ type: CreatedDeviceSchema })
  async create(@Body() body: unknown): Promise<CreatedDevice> {
    return this.devices.create(parseBody(CreateDeviceDto, body).name ?? '');
  }

  @Get()
  @ApiOkResponse({ type: [DeviceSchema] })
  async list(): Promise<DeviceView[]> {
    return this.devices.list();
  }

  /** The device, with how keeping it up to date goes. */
  @Get(':deviceId')
  @ApiOkResponse({ type: DeviceWithUpgradeSchema })
  async get(@Param('deviceId') deviceId: string): Promise<DeviceWithUpgrade> {
    return { ...(await this.devices.get(deviceId)), upgrade: await this.upgrades.describe(deviceId) };
  }

  @Patch(':deviceId')
  @ApiBody({ type: RenameDeviceDto })
  @ApiOkResponse({ type: DeviceSchema })
  async rename(@Param('deviceId') deviceId: string, @Body() body: unknown): Promise<DeviceView> {
    return this.devices.rename(deviceId, parseBody(RenameDeviceDto, body).name);
  }

  @Get(':deviceId/upgrade')
  @ApiOkResponse({ type: UpgradeSchema })
  async upgrade(@Param('deviceId') deviceId: string): Promise<UpgradeView> {
    await this.devices.require(deviceId);
    return this.upgrades.describe(deviceId);
  }

  /** Upgrades now, to `{ version?, image? }` or the Hive's target: the attempt, whose outcome GET …/upgrade follows. */
  @Post(':deviceId/upgrade')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        version: { type: 'string', description: 'the Device version to reach (semver); default HIVE_DEVICE_VERSION' },
        image: { type: 'string', description: 'the image to run, of the device’s own repository; default HIVE_DEVICE_IMAGE' },
      },
    },
  })
  @ApiAcceptedResponse({ type: UpgradeAttemptSchema, description: 'The attempt; GET …/upgrade follows its outcome.' })
  requestUpgrade(@Param('deviceId') deviceId: string, @Body() body: unknown): Promise<UpgradeAttemptView> {
    return this.upgrades.request(deviceId, parseBody(UpgradeParamsDto, body ?? {}));
  }

  @Delete(':deviceId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse()
  async revoke(@Param('deviceId') deviceId: string): Promise<void> {
    await this.devices.revoke(deviceId);
  }
}
