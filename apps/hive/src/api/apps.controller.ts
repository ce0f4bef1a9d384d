import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AppView, AppsService } from '../apps/apps.service';
import { MoveService } from '../moves/move.service';
import { ApiAuthGuard } from './api-auth.guard';
import { AppCommandOutcomeSchema, AppOutcomeSchema, AppSchema, ErrorSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';
import { AppCommandResponse, AppResponse, StatusSettable, answer } from './app-response';
import { RunAppCommandDto } from './dto/run-app-command.dto';
import { StartAppDto } from './dto/start-app.dto';
import { StopAppDto } from './dto/stop-app.dto';
import { parseBody } from './request-validation';

/** Installed apps, across devices. Install goes through POST /api/devices/:deviceId/apps. */
@ApiTags('apps')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/apps`)
@UseGuards(ApiAuthGuard)
export class AppsController {
  constructor(
    private readonly apps: AppsService,
    private readonly moves: MoveService,
  ) {}

  @Get()
  @ApiOkResponse({ type: [AppSchema] })
  async list(): Promise<AppView[]> {
    return this.apps.list();
  }

  @Get(':instance')
  @ApiOkResponse({ type: AppSchema })
  async get(@Param('instance') instance: string): Promise<AppView> {
    return this.apps.get(instance);
  }

  /** An empty body is `{}`: every field is optional. */
  @Post(':instance/start')
  @ApiBody({ type: StartAppDto, required: false })
  @ApiOkResponse({ type: AppOutcomeSchema })
  @ApiAcceptedResponse({ type: AppOutcomeSchema })
  async start(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    const request = parseBody(StartAppDto, body ?? {});
    // A start or stop in the middle of a move would race the move's own stop and start.
    await this.moves.assertNotMoving(instance);
    return answer(await this.apps.start(instance, request), response);
  }

  @Post(':instance/stop')
  @ApiBody({ type: StopAppDto, required: false })
  @ApiOkResponse({ type: AppOutcomeSchema })
  @ApiAcceptedResponse({ type: AppOutcomeSchema })
  async stop(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppResponse> {
    const request = parseBody(StopAppDto, body ?? {});
    await this.moves.assertNotMoving(instance);
    return answer(await this.apps.stop(instance, request), response);
  }

  @Post(':instance/commands')
  @ApiBody({ type: RunAppCommandDto })
  @ApiOkResponse({ type: AppCommandOutcomeSchema })
  @ApiAcceptedResponse({ type: AppCommandOutcomeSchema })
  async runCommand(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<AppCommandResponse> {
    return answer(await this.apps.runCommand(instance, parseBody(RunAppCommandDto, body)), response);
  }
}
