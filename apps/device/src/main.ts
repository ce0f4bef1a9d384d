// First: it loads Nest without ICU's data and undici, which its loading would pull in (see the file).
import './nest-preload';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory, SerializedGraph } from '@nestjs/core';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { announceDevtools, consoleLogger } from '@mosaic/ops';
import { FATAL_EXIT_CODE, containUnhandledRejections } from '@mosaic/protocol';
import { loadDeviceConfig } from './config/load-device-config';
import { DeviceModule } from './device.module';
import { DEVICE_VERSION } from './device-version';
import { importCycles, moduleImports } from './monitor/module-graph';
import { MonitorRoutes, MonitorServer } from './monitor/monitor-server';
import { runUpdater } from './updater/updater.main';

/** The signals Nest's shutdown hooks listen to (enableShutdownHooks() without a list). */
const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** DEVTOOLS: says at boot how the module graph looks, loudly if it has a cycle. */
function logModuleGraph(graph: SerializedGraph, logger: Logger): void {
  const imports = moduleImports(graph.toJSON());
  const cycles = importCycles(imports);
  const edges = [...imports.values()].reduce((n, s) => n + s.size, 0);
  if (cycles.length) logger.error(`module graph has import cycles: ${cycles.map((c) => c.join(' → ')).join('; ')}`);
  else logger.log(`module graph: ${imports.size} modules with imports, ${edges} imports, no cycles; snapshot at /devtools/graph`);
}

/**
 * Binds /health and /metrics before anything starts: an address another process holds (a second
 * Device on this host with the default port) is a setting to fix, not something to run without,
 * since the image's HEALTHCHECK would then probe the other process. One line, status 78.
 */
async function listenOrExit(server: Server, monitor: { host: string; port: number }): Promise<AddressInfo> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(monitor.port, monitor.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const address = `${monitor.host}:${monitor.port}`;
    const why = code === 'EADDRINUSE' ? `${address} is in use by another process (another Device on this host?)` : `${address} cannot be listened on (${code ?? message})`;
    process.stderr.write(`monitor: MONITOR_ADDRESS ${why}: set MONITOR_ADDRESS to a free host:port, or off\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  return server.address() as AddressInfo;
}

async function bootstrap(): Promise<void> {
  containUnhandledRejections(new Logger('Process'));
  const loaded = loadDeviceConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the device did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  const config = loaded.config;
  try {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // Not fatal: the device keeps its state in memory and says so until STATE_DIR can be written.
    process.stderr.write(`STATE_DIR ${config.stateDir} cannot be made: ${(err as Error).message}\n`);
  }
  // Bound before the Device starts (connects to Hive, brings apps up); it answers 503 until then.
  const monitor = config.monitor ? new MonitorServer() : undefined;
  const address = config.monitor && monitor ? await listenOrExit(monitor.server, config.monitor) : undefined;
  // An application context, not an HTTP application: the monitor is a plain node:http server, so
  // neither Express nor Nest's router is loaded.
  const app = await NestFactory.createApplicationContext(DeviceModule.forRoot(config), {
    logger: consoleLogger(config.logLevel, config.logFormat, 'Mosaic'),
    snapshot: config.devtools,
  });
  app.enableShutdownHooks();
  if (monitor) {
    // Nest ends the Device by sending the signal again once it has shut down, and as its container's
    // PID 1 the process ignores that signal: it ends only when nothing is left to do, so the
    // monitor's server must close with the rest (else `docker stop` waits for its SIGKILL).
    for (const signal of SHUTDOWN_SIGNALS) process.once(signal, () => void monitor.close());
  }
  const logger = new Logger('Device');
  monitor?.serve(app.get(MonitorRoutes));
  if (config.monitor && address) logger.log(`health and metrics on http://${config.monitor.host}:${address.port}/health and /metrics`);
  if (config.devtools) logModuleGraph(app.get(SerializedGraph), logger);
  announceDevtools(logger, config.devtools, config.devtoolsServer);
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
  bootstrap().catch((err: Error) => {
    process.stderr.write(`the device did not start: ${err?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
