import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { CatalogAppView, CatalogService } from '../apps/catalog.service';
import { AdminTokenGuard } from './admin-token.guard';
import { API_PREFIX } from './api-routes';

@Controller(`${API_PREFIX}/catalog`)
@UseGuards(AdminTokenGuard)
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /** Every app.json, with the app commands its template declares. */
  @Get()
  list(): CatalogAppView[] {
    return this.catalog.list();
  }

  /** One app, with its compose template. */
  @Get(':app')
  get(@Param('app') app: string): CatalogAppView & { compose: string } {
    return this.catalog.describe(app);
  }
}
