import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CatalogAppView, CatalogService } from '../apps/catalog.service';
import { ApiAuthGuard } from './api-auth.guard';
import { CatalogAppSchema, CatalogAppWithComposeSchema, ErrorSchema } from './openapi/schemas';
import { API_PREFIX } from './api-routes';

@ApiTags('catalog')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/catalog`)
@UseGuards(ApiAuthGuard)
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /** Every app.json, with the app commands its template declares. */
  @Get()
  @ApiOkResponse({ type: [CatalogAppSchema] })
  list(): CatalogAppView[] {
    return this.catalog.list();
  }

  /** One app, with its compose template. */
  @Get(':app')
  @ApiOkResponse({ type: CatalogAppWithComposeSchema })
  get(@Param('app') app: string): CatalogAppView & { compose: string } {
    return this.catalog.describe(app);
  }
}
