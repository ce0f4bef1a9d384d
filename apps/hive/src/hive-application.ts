import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { setUpOpenApi } from './api/openapi/openapi-document';
import { ClusterBus } from './cluster/cluster-bus';
import { ClusterIoAdapter } from './cluster/cluster-io-adapter';
import { HIVE_CONFIG, HiveConfig, HiveOptions } from './config/hive-config';
import { ConsoleSite, SiteRequest, SiteResponse } from './console-site/console-site';
import { HiveModule } from './hive.module';

/** A SchedulerAction.start may carry 256 KiB of compose file, beyond Express's 100 kB default. */
export const JSON_BODY_LIMIT = '1mb';

/** What every Hive application needs beyond its module; main.ts and tests both call it. */
export function configureHiveApplication<T extends NestExpressApplication>(app: T): T {
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  // Express's default would say "X-Powered-By: Express" on every answer.
  app.disable('x-powered-by');
  // With PostgreSQL, socket.io spans the Hive's processes (docs/architecture.md "The Hive cluster").
  app.useWebSocketAdapter(new ClusterIoAdapter(app, app.get(ClusterBus)));
  const site = new ConsoleSite(app.get<HiveConfig>(HIVE_CONFIG).consoleDir);
  app.use((request: SiteRequest, response: SiteResponse, next: () => void) => site.handle(request, response, next));
  setUpOpenApi(app);
  return app;
}

export interface ListeningHive {
  /** The real port, also when port 0 was asked for. */
  port: number;
  /** http://host:port, without a trailing slash. */
  url: string;
}

/** Listens on the configured host and port and says where it really listens. */
export async function listenHive(app: INestApplication): Promise<ListeningHive> {
  const config = app.get<HiveConfig>(HIVE_CONFIG);
  await app.listen(config.port, config.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { port, url: `http://${host}:${port}` };
}

export interface RunningHive extends ListeningHive {
  app: NestExpressApplication;
}

/** Builds, configures and starts a Hive in this process. Stop it with `app.close()`. */
export async function startHive(options: HiveOptions, appOptions: NestApplicationOptions = {}): Promise<RunningHive> {
  const app = configureHiveApplication(await NestFactory.create<NestExpressApplication>(HiveModule.forRoot(options), appOptions));
  return { app, ...(await listenHive(app)) };
}
