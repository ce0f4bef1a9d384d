import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { MoveService, MoveView } from '../moves/move.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';
import { StatusSettable, answer } from './app-response';
import { MoveAppDto } from './dto/move-app.dto';
import { parseBody } from './request-validation';

/** Moving an app to another device (failover), and the moves it went through. */
@Controller(API_PREFIX)
@UseGuards(AdminTokenGuard)
export class MovesController {
  constructor(private readonly moves: MoveService) {}

  /** 200 with the move once it ended (`running` or `failed`), 202 while it goes on (poll GET /api/moves/:id). */
  @Post('apps/:instance/move')
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
  list(@Param('instance') instance: string): MoveView[] {
    return this.moves.listForApp(instance);
  }

  @Get('moves/:moveId')
  get(@Param('moveId') moveId: string): MoveView {
    return this.moves.get(moveId);
  }
}
