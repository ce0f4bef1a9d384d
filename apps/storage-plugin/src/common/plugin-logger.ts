import { ConsoleLogger, LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest's console logger at the configured level, as text or as one JSON object per line. */
export function pluginLogger(level: LogLevel, format: 'text' | 'json'): ConsoleLogger {
  return new ConsoleLogger({ logLevels: ORDER.slice(0, ORDER.indexOf(level) + 1), json: format === 'json', prefix: 'MosaicStorage' });
}
