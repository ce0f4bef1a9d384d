import { readFileSync } from 'node:fs';

export type Env = Record<string, string | undefined>;

/** What a NAME / NAME_FILE pair holds: the value, nothing, or the problem (naming the variable at fault). */
export type SecretSetting = { ok: true; value: string | undefined } | { ok: false; variable: string; message: string };

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A secret given directly (NAME) or in a file (NAME_FILE, one trailing newline dropped): a file
 * keeps it out of the process environment and `docker inspect`. Both at once is a mistake.
 */
export function readSecretSetting(env: Env, name: string): SecretSetting {
  const direct = raw(env, name);
  const file = raw(env, `${name}_FILE`);
  if (direct !== undefined && file !== undefined) return { ok: false, variable: name, message: `give ${name} or ${name}_FILE, not both` };
  if (file === undefined) return { ok: true, value: direct };
  try {
    return { ok: true, value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    return { ok: false, variable: `${name}_FILE`, message: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}
