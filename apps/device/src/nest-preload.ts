/**
 * main.ts's first import: loads Nest (@nestjs/common and @nestjs/core, ES modules) before anything
 * else, without what their loading would pull in for nothing: ICU's locale and zone data for the
 * timestamps of Nest's loggers (common/log-clock.ts) and undici for Node's `http` web exports
 * (common/http-web-exports.ts). Every later import of Nest gets these, already loaded.
 * Requires, not imports: imports are hoisted out of the functions' reach.
 */
import { withoutHttpWebExports } from './common/http-web-exports';
import { withLogClock } from './common/log-clock';

withLogClock(() =>
  withoutHttpWebExports(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('reflect-metadata');
    require('@nestjs/common');
    require('@nestjs/core');
    /* eslint-enable @typescript-eslint/no-require-imports */
  }),
);
