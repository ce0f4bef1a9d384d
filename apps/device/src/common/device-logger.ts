import { ConsoleLogger, LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest's console logger at the configured level, as text or as one JSON object per line. */
export function deviceLogger(level: LogLevel, format: 'text' | 'json'): ConsoleLogger {
  const levels = ORDER.slice(0, ORDER.indexOf(level) + 1);
  return new ConsoleLogger({ logLevels: levels, json: format === 'json', prefix: 'Mosaic' });
}
