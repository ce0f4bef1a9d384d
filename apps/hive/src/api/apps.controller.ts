import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { AppView, AppsService } from '../apps/apps.service';
import { MoveService } from '../moves/move.service';
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
  constructor(
    private readonly apps: AppsService,
    private readonly moves: MoveService,
  ) {}

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
    const request = parseBody(StartAppDto, body ?? {});
    // A start or stop in the middle of a move would race the move's own stop and start.
    this.moves.assertNotMoving(instance);
    return answer(await this.apps.start(instance, request), response);
  }

  @Post(':instance/stop')
  async stop(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    const request = parseBody(StopAppDto, body ?? {});
    this.moves.assertNotMoving(instance);
    return answer(await this.apps.stop(instance, request), response);
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
