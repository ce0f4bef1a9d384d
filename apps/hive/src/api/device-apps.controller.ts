import { Body, Controller, Get, HttpStatus, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppView, AppsService } from '../apps/apps.service';
import { ApiAuthGuard } from './api-auth.guard';
import { AppOutcomeSchema, AppSchema, ErrorSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';
import { AppResponse, StatusSettable, answer } from './app-response';
import { InstallAppDto } from './dto/install-app.dto';
import { parseBody } from './request-validation';

@ApiTags('apps')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/devices/:deviceId/apps`)
@UseGuards(ApiAuthGuard)
export class DeviceAppsController {
  constructor(private readonly apps: AppsService) {}

  /**
   * Installs a catalog app: 201 when the device started it, 202 while it still works on it, and
   * 200 when the start ended otherwise (refused, failed, no answer): the app is recorded either
   * way and `command.error` carries the device's reason (POLICY_VIOLATION, …).
   */
  @Post()
  @ApiBody({ type: InstallAppDto })
  @ApiCreatedResponse({ type: AppOutcomeSchema, description: 'The start succeeded' })
  @ApiOkResponse({ type: AppOutcomeSchema, description: 'The start ended otherwise: see command.error' })
  @ApiAcceptedResponse({ type: AppOutcomeSchema, description: 'The device still works on it' })
  async install(
    @Param('deviceId') deviceId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    const outcome = await this.apps.install(deviceId, parseBody(InstallAppDto, body));
    const reply = answer(outcome, response);
    if (outcome.command.status === 'succeeded') response.status(HttpStatus.CREATED);
    return reply;
  }

  /** The apps of one device, oldest first. */
  @Get()
  @ApiOkResponse({ type: [AppSchema] })
  async list(@Param('deviceId') deviceId: string): Promise<AppView[]> {
    return this.apps.list(deviceId);
  }
}
