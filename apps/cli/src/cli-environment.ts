import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Record<string, string | undefined>;

/** The CLI's only reader of the environment: where its credentials live. */
export function configDir(env: Env): string {
  if (env.MOSAIC_CONFIG_DIR) return env.MOSAIC_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'mosaic');
}
