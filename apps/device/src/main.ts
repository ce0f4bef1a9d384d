import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory, SerializedGraph } from '@nestjs/core';
import { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { FATAL_EXIT_CODE } from '@mosaic/protocol';
import { loadDeviceConfig } from './config/load-device-config';
import { DeviceModule } from './device.module';
import { DEVICE_VERSION } from './device-version';
import { deviceLogger } from './common/device-logger';
import { importCycles, moduleImports } from './monitor/module-graph';
import { runUpdater } from './updater/updater.main';

/** DEVTOOLS: says at boot how the module graph looks, loudly if it has a cycle. */
function logModuleGraph(graph: SerializedGraph, logger: Logger): void {
  const imports = moduleImports(graph.toJSON());
  const cycles = importCycles(imports);
  const edges = [...imports.values()].reduce((n, s) => n + s.size, 0);
  if (cycles.length) logger.error(`module graph has import cycles: ${cycles.map((c) => c.join(' → ')).join('; ')}`);
  else logger.log(`module graph: ${imports.size} modules with imports, ${edges} imports, no cycles; snapshot at /devtools/graph`);
}

async function bootstrap(): Promise<void> {
  const loaded = loadDeviceConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the device did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  const config = loaded.config;
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  const app = await NestFactory.create(DeviceModule.forRoot(config), {
    logger: deviceLogger(config.logLevel, config.logFormat),
    snapshot: config.devtools,
  });
  app.enableShutdownHooks();
  const logger = new Logger('Device');
  if (config.monitor) {
    await app.listen(config.monitor.port, config.monitor.host);
    const address = app.getHttpServer().address() as AddressInfo;
    logger.log(`health and metrics on http://${config.monitor.host}:${address.port}/health and /metrics`);
  } else {
    await app.init();
  }
  if (config.devtools) logModuleGraph(app.get(SerializedGraph), logger);
  logger.log(`Mosaic Device ${DEVICE_VERSION} "${config.deviceName}" started`);
}

// The same image is also Mosaic's updater (docs/protocol.md §2.6): a one-off container that replaces the device's.
if (process.argv[2] === 'updater') {
  runUpdater(process.argv.slice(3)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`updater: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
} else {
  void bootstrap();
}
