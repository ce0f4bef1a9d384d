import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { announceDevtools, consoleLogger } from '@mosaic/ops';
import { FATAL_EXIT_CODE, containUnhandledRejections } from '@mosaic/protocol';
import { CatalogError } from './apps/catalog-loader';
import { loadHiveConfig } from './config/load-hive-config';
import { startHive } from './hive-application';

async function bootstrap(): Promise<void> {
  containUnhandledRejections(new Logger('Process'));
  const loaded = loadHiveConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the Hive did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  // abortOnError: false lets a bad catalog reach the handler below instead of Nest's own exit.
  const config = loaded.config;
  const { app, url } = await startHive(config, {
    abortOnError: false,
    logger: consoleLogger(config.logLevel, config.logFormat, 'MosaicHive'),
    snapshot: config.devtools,
  });
  app.enableShutdownHooks();
  const logger = new Logger('Hive');
  announceDevtools(logger, config.devtools, config.devtoolsServer);
  logger.log(`Hive listening on ${url}`);
}

bootstrap().catch((err: unknown) => {
  if (err instanceof CatalogError) {
    for (const line of err.problems) process.stderr.write(`catalog: ${line}\n`);
    process.stderr.write(`catalog: the Hive did not start (${err.problems.length} problem(s) in the catalog)\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  process.stderr.write(`Hive failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
