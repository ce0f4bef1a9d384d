import { Inject, Injectable, Logger } from '@nestjs/common';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { AppCommandSpec } from './app-commands';
import { CatalogApp, loadCatalog } from './catalog-loader';
import { AppManifest } from './catalog-manifest.dto';

/** The appstore name every catalog app is started under (SchedulerAction.start `application.appstore`). */
export const CATALOG_APPSTORE = 'Mosaic Catalog';

/** GET /api/catalog: app.json as written, plus the app commands its template declares. */
export interface CatalogAppView extends AppManifest {
  commands: Record<string, { service: string; args: Record<string, { pattern: string }> }>;
}

/**
 * The apps the Hive can install, read from HIVE_CATALOG_DIR once, when the Hive is built: a bad
 * app.json or compose.yaml stops the Hive with a CatalogError naming the file.
 */
@Injectable()
export class CatalogService {
  private readonly logger = new Logger('Catalog');
  private readonly apps: ReadonlyMap<string, CatalogApp>;

  constructor(@Inject(HIVE_CONFIG) config: HiveConfig) {
    const apps = loadCatalog(config.catalogDir);
    this.apps = new Map(apps.map((app) => [app.manifest.name, app]));
    this.logger.log(`${apps.length} app(s) in the catalog ${config.catalogDir}: ${apps.map((a) => a.manifest.name).join(', ') || 'none'}`);
  }

  list(): CatalogAppView[] {
    return [...this.apps.values()].map(toView);
  }

  describe(name: string): CatalogAppView & { compose: string } {
    const app = this.require(name);
    return { ...toView(app), compose: app.compose };
  }

  /** Throws NOT_FOUND for an app the catalog does not have. */
  require(name: string): CatalogApp {
    const app = this.apps.get(name);
    if (!app)
      throw new HiveError(
        HiveErrorCode.NOT_FOUND,
        `The catalog has no app "${name}" (it has: ${[...this.apps.keys()].join(', ') || 'none'}).`,
      );
    return app;
  }

  find(name: string): CatalogApp | undefined {
    return this.apps.get(name);
  }
}

function toView(app: CatalogApp): CatalogAppView {
  const commands = Object.fromEntries(
    Object.entries(app.commands).map(([name, spec]: [string, AppCommandSpec]) => [
      name,
      { service: spec.service, args: Object.fromEntries(Object.entries(spec.args).map(([arg, pattern]) => [arg, { pattern }])) },
    ]),
  );
  return { ...app.manifest, commands };
}
