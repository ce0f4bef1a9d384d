import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync } from 'node:fs';
import { announceDevtools, consoleLogger } from '@mosaic/ops';
import { FATAL_EXIT_CODE, containUnhandledRejections } from '@mosaic/protocol';
import { PLUGIN_VERSION } from './common/plugin-version';
import { loadPluginConfig } from './config/load-plugin-config';
import { UnsupportedToolError } from './replication/replication.service';
import { StoragePluginModule } from './storage-plugin.module';

async function bootstrap(): Promise<void> {
  containUnhandledRejections(new Logger('Process'));
  const loaded = loadPluginConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the storage plugin did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  const config = loaded.config;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const app = await NestFactory.createApplicationContext(StoragePluginModule.forRoot(config), {
    logger: consoleLogger(config.logLevel, config.logFormat, 'MosaicStorage'),
    snapshot: config.devtools,
  });
  // SIGTERM/SIGINT: timers stop, sockets stop accepting, running snapshots finish, sockets close.
  app.enableShutdownHooks();
  const logger = new Logger('StoragePlugin');
  announceDevtools(logger, config.devtools, config.devtoolsServer);
  logger.log(`Mosaic storage plugin ${PLUGIN_VERSION} ready: driver "${config.driver}"`);
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`storage plugin: cannot start: ${err.message}\n`);
  // A tool too old to use is fixed by the operator, not by a restart.
  process.exit(err instanceof UnsupportedToolError ? FATAL_EXIT_CODE : 1);
});
