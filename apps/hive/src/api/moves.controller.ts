import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConflictResponse, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EmptyParamsDto } from '@mosaic/protocol';
import { MoveService, MoveView } from '../moves/move.service';
import { ApiAuthGuard } from './api-auth.guard';
import { ErrorSchema, MoveSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';
import { StatusSettable, answer } from './app-response';
import { MoveAppDto } from './dto/move-app.dto';
import { parseBody } from './request-validation';

/** Moving an app to another device (failover), and the moves it went through. */
@ApiTags('apps')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(API_PREFIX)
@UseGuards(ApiAuthGuard)
export class MovesController {
  constructor(private readonly moves: MoveService) {}

  /** 200 with the move once it ended (`running` or `failed`), 202 while it goes on (poll GET /api/moves/:id). */
  @Post('apps/:instance/move')
  @ApiBody({ type: MoveAppDto })
  @ApiOkResponse({ type: MoveSchema, description: 'The move ended (running or failed)' })
  @ApiAcceptedResponse({ type: MoveSchema, description: 'The move goes on' })
  async move(
    @Param('instance') instance: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<MoveView> {
    const { move, settled } = await this.moves.move(instance, parseBody(MoveAppDto, body));
    return answer({ ...move, settled }, response);
  }

  /** Newest first. */
  @Get('apps/:instance/moves')
  @ApiOkResponse({ type: [MoveSchema] })
  async list(@Param('instance') instance: string): Promise<MoveView[]> {
    return this.moves.listForApp(instance);
  }

  @Get('moves/:moveId')
  @ApiOkResponse({ type: MoveSchema })
  async get(@Param('moveId') moveId: string): Promise<MoveView> {
    return this.moves.get(moveId);
  }

  /**
   * Cancels an unfinished move: it ends `cancelled`, the app left where its data is safe
   * (`resolvedOn`, and `resolution` says what was done). 409 MOVE_FINISHED for a move that ended.
   */
  @Post('moves/:moveId/cancel')
  @HttpCode(HttpStatus.OK)
  @ApiBody({ required: false, schema: { type: 'object', additionalProperties: false, properties: {} } })
  @ApiOkResponse({ type: MoveSchema, description: 'The move, cancelled' })
  @ApiConflictResponse({
    type: ErrorSchema,
    description: 'MOVE_FINISHED: the move ended already; MOVE_IN_PROGRESS: another Hive process runs it and did not hand it over in time',
  })
  cancel(@Param('moveId') moveId: string, @Body() body: unknown): Promise<MoveView> {
    parseBody(EmptyParamsDto, body ?? {});
    return this.moves.cancel(moveId);
  }
}
