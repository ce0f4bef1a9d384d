import { Body, Controller, Get, HttpStatus, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiDefaultResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CommandView, CommandsService } from '../commands/commands.service';
import { ApiAuthGuard } from './api-auth.guard';
import { CommandSchema, ErrorSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';
import { SendCommandDto } from './dto/send-command.dto';
import { parseBody, parseLimit } from './request-validation';

/** The part of the framework's response object this controller uses. */
interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('devices')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/devices/:deviceId/commands`)
@UseGuards(ApiAuthGuard)
export class DeviceCommandsController {
  constructor(private readonly commands: CommandsService) {}

  /** 200 with the finished command; 202 while the device still works on it (poll GET …/:commandId). */
  @Post()
  @ApiBody({ type: SendCommandDto })
  @ApiOkResponse({ type: CommandSchema })
  @ApiAcceptedResponse({ type: CommandSchema })
  async send(
    @Param('deviceId') deviceId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<CommandView> {
    const request = parseBody(SendCommandDto, body);
    const outcome = await this.commands.send(deviceId, request.type, request.params ?? {}, {
      wait: request.wait ?? true,
      timeoutMs: request.timeoutSeconds !== undefined ? request.timeoutSeconds * 1000 : undefined,
    });
    response.status(outcome.settled ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return outcome.command;
  }

  /** Newest first; `limit` 1..100, default 20. */
  @Get()
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiOkResponse({ type: [CommandSchema] })
  async list(@Param('deviceId') deviceId: string, @Query('limit') limit: unknown): Promise<CommandView[]> {
    return this.commands.list(deviceId, parseLimit(limit));
  }

  @Get(':commandId')
  @ApiOkResponse({ type: CommandSchema })
  async get(@Param('deviceId') deviceId: string, @Param('commandId') commandId: string): Promise<CommandView> {
    return this.commands.get(deviceId, commandId);
  }
}
