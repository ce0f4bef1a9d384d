import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { AppView, AppsService } from '../apps/apps.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';
import { AppCommandResponse, AppResponse, StatusSettable, answer } from './app-response';
import { RunAppCommandDto } from './dto/run-app-command.dto';
import { StartAppDto } from './dto/start-app.dto';
import { StopAppDto } from './dto/stop-app.dto';
import { parseBody } from './request-validation';

/** Installed apps, across devices. Install goes through POST /api/devices/:deviceId/apps. */
@Controller(`${API_PREFIX}/apps`)
@UseGuards(AdminTokenGuard)
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @Get()
  list(): AppView[] {
    return this.apps.list();
  }

  @Get(':instance')
  get(@Param('instance') instance: string): AppView {
    return this.apps.get(instance);
  }

  /** An empty body is `{}`: every field is optional. */
  @Post(':instance/start')
  async start(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    return answer(await this.apps.start(instance, parseBody(StartAppDto, body ?? {})), response);
  }

  @Post(':instance/stop')
  async stop(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    return answer(await this.apps.stop(instance, parseBody(StopAppDto, body ?? {})), response);
  }

  @Post(':instance/commands')
  async runCommand(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppCommandResponse> {
    return answer(await this.apps.runCommand(instance, parseBody(RunAppCommandDto, body)), response);
  }
}
