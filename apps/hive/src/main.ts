import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { FATAL_EXIT_CODE } from '@mosaic/protocol';
import { loadHiveConfig } from './config/load-hive-config';
import { startHive } from './hive-application';

async function bootstrap(): Promise<void> {
  const loaded = loadHiveConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the Hive did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  const { app, url } = await startHive(loaded.config);
  app.enableShutdownHooks();
  new Logger('Hive').log(`Hive listening on ${url}`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`Hive failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
