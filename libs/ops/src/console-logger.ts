import { ConsoleLogger, LogLevel } from '@nestjs/common';

export type LogFormat = 'text' | 'json';
export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Nest's console logger at the configured level, as text or as one JSON object per line (LOG_LEVEL, LOG_FORMAT). */
export function consoleLogger(level: LogLevel, format: LogFormat, prefix: string): ConsoleLogger {
  return new ConsoleLogger({ logLevels: ORDER.slice(0, ORDER.indexOf(level) + 1), json: format === 'json', prefix });
}
