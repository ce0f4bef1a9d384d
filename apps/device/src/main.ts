import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync } from 'node:fs';
import { FATAL_EXIT_CODE } from '@mosaic/protocol';
import { loadDeviceConfig } from './config/load-device-config';
import { DeviceModule } from './device.module';
import { DEVICE_VERSION } from './device-version';
import { deviceLogger } from './common/device-logger';

async function bootstrap(): Promise<void> {
  const loaded = loadDeviceConfig(process.env);
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`config: ${line}\n`);
    process.stderr.write(`config: the device did not start (${loaded.errors.length} bad setting(s))\n`);
    process.exit(FATAL_EXIT_CODE);
  }
  const config = loaded.config;
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  const app = await NestFactory.createApplicationContext(DeviceModule.forRoot(config), {
    logger: deviceLogger(config.logLevel, config.logFormat),
  });
  app.enableShutdownHooks();
  new Logger('Device').log(`Mosaic Device ${DEVICE_VERSION} "${config.deviceName}" started`);
}

void bootstrap();
