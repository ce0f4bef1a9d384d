import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiBody, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ConsoleSettingsService, ConsoleSettingsView } from '../settings/console-settings.service';
import { ApiAuthGuard } from './api-auth.guard';
import { API_PREFIX } from './api-routes';
import { ConsoleSettingsDto } from './dto/console-settings.dto';
import { ConsoleSettingsSchema, ErrorSchema } from './openapi/schemas';
import { parseBody } from './request-validation';

@ApiTags('settings')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/settings`)
@UseGuards(ApiAuthGuard)
export class SettingsController {
  constructor(private readonly settings: ConsoleSettingsService) {}

  @Get()
  @ApiOkResponse({ type: ConsoleSettingsSchema })
  async get(): Promise<ConsoleSettingsView> {
    return this.settings.get();
  }

  @Put()
  @ApiBody({ type: ConsoleSettingsDto })
  @ApiOkResponse({ type: ConsoleSettingsSchema })
  async update(@Body() body: unknown): Promise<ConsoleSettingsView> {
    return this.settings.update(parseBody(ConsoleSettingsDto, body));
  }
}
