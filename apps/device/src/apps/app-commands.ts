import { appArgumentProblem, catalogPattern, isRefusedKey } from '@mosaic/protocol';
import { posix } from 'node:path';
import { PolicyViolation } from './compose-policy';

/** An app command as declared in `x-mosaic.commands` (§2.3), checked when the app starts. */
export interface AppCommandSpec {
  service: string;
  argv: string[];
  /** Argument name → the anchored pattern its value must match. */
  args: Record<string, string>;
  timeoutSeconds: number;
}

export const DEFAULT_ARG_PATTERN = '^[A-Za-z0-9._@-]{1,128}$';
export const DEFAULT_TIMEOUT_S = 60;
export const MAX_TIMEOUT_S = 3600;
const PLACEHOLDER = /^\{\{([A-Za-z_][A-Za-z0-9_]{0,63})\}\}$/;
const COMMAND_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** argv[0] values that would run a shell or an arbitrary program by another name. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'busybox', 'env', 'su', 'sudo', 'xargs', 'nsenter', 'chroot']);

export function placeholderOf(element: string): string | undefined {
  return PLACEHOLDER.exec(element)?.[1];
}

type Json = Record<string, unknown>;

/**
 * Reads and checks `x-mosaic.commands` of a normalised project. Returns the commands, or the
 * reasons the declaration is refused.
 */
export function parseAppCommands(
  extension: unknown,
  services: string[],
): { commands: Record<string, AppCommandSpec>; violations: PolicyViolation[] } {
  const commands: Record<string, AppCommandSpec> = {};
  const violations: PolicyViolation[] = [];
  if (extension === undefined) return { commands, violations };
  const declared = (extension as Json | null)?.commands;
  if (declared === undefined) return { commands, violations };
  if (!declared || typeof declared !== 'object' || Array.isArray(declared)) {
    return { commands, violations: [{ rule: 'x-mosaic', message: 'x-mosaic.commands must be a map of commands' }] };
  }
  for (const [name, raw] of Object.entries(declared as Json)) {
    const bad = (message: string) => violations.push({ rule: 'x-mosaic', message: `command "${name}": ${message}` });
    if (!COMMAND_NAME.test(name)) {
      bad('its name must match ^[a-z0-9][a-z0-9_.-]{0,63}$');
      continue;
    }
    const spec = (raw ?? {}) as Json;
    const unknown = Object.keys(spec).filter((k) => !['service', 'argv', 'args', 'timeoutSeconds'].includes(k));
    if (unknown.length) bad(`unknown fields ${unknown.join(', ')}`);
    if (typeof spec.service !== 'string' || !services.includes(spec.service)) {
      bad(`service must name one of the app's services (${services.join(', ')})`);
    }
    const argv = spec.argv;
    if (!Array.isArray(argv) || argv.length === 0 || argv.length > 64 || !argv.every((a) => typeof a === 'string' && a.length <= 4096)) {
      bad('argv must be a non-empty list of at most 64 strings');
      continue;
    }
    if (placeholderOf(argv[0]) !== undefined) bad('argv[0] may not be a placeholder');
    if (SHELLS.has(posix.basename(argv[0]))) bad(`argv[0] "${argv[0]}" is a shell; app commands run a program directly`);
    // A launcher in front of a shell (nice sh -c …, gosu app bash …) is a shell all the same.
    else if (argv.slice(1).some((a) => placeholderOf(a) === undefined && SHELLS.has(posix.basename(a)))) {
      bad('argv runs a shell through another program; app commands run a program directly');
    }
    for (const element of argv) {
      if (element.includes('{{') && placeholderOf(element) === undefined) bad(`"${element}" mixes a placeholder with text; a placeholder is a whole argument`);
    }
    const placeholders = argv.slice(1).map(placeholderOf).filter((p): p is string => p !== undefined);
    const declaredArgs = (spec.args ?? {}) as Json;
    if (typeof declaredArgs !== 'object' || Array.isArray(declaredArgs)) bad('args must be a map');
    // No prototype, so that no name is ever looked up on Object.prototype.
    const args: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const placeholder of placeholders) {
      // The Hive could never send it: the wire refuses such a key in `args` (Strict payloads).
      if (isRefusedKey(placeholder)) {
        bad(`placeholder "${placeholder}" is a key payloads may not carry; rename it`);
        continue;
      }
      const declaration = Object.hasOwn(declaredArgs, placeholder) ? (declaredArgs[placeholder] as Json) : undefined;
      const pattern = declaration?.pattern ?? DEFAULT_ARG_PATTERN;
      if (typeof pattern !== 'string') {
        bad(`the pattern of "${placeholder}" must be a string`);
        continue;
      }
      // Compiled here, when the app starts, and kept for its runs (catalogPattern caches it).
      const compiled = catalogPattern(pattern);
      if (typeof compiled === 'string') {
        bad(`the pattern of "${placeholder}" ${compiled}`);
        continue;
      }
      args[placeholder] = pattern;
    }
    const extra = Object.keys(declaredArgs).filter((a) => !placeholders.includes(a));
    if (extra.length) bad(`args ${extra.join(', ')} have no placeholder in argv`);
    const timeout = spec.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_S) {
      bad(`timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_S}`);
    }
    commands[name] = { service: String(spec.service), argv: argv as string[], args, timeoutSeconds: Number(timeout) };
  }
  return { commands: violations.length ? {} : commands, violations };
}

/** The command declared under `name`: own entries only, so `constructor` is no command. */
export function declaredCommand(commands: Record<string, AppCommandSpec>, name: string): AppCommandSpec | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

/**
 * The argv of a run: every placeholder replaced by its value as one whole element. Returns the
 * per-argument problems instead when an argument is missing, extra, or does not match.
 */
export function bindAppCommand(
  spec: AppCommandSpec,
  given: Record<string, string>,
): { argv: string[] } | { problems: { field: string; problems: string[] }[] } {
  const problems: { field: string; problems: string[] }[] = [];
  // Own properties only: `constructor` or `toString` must not be found on Object.prototype.
  const has = (record: object, name: string) => Object.prototype.hasOwnProperty.call(record, name);
  for (const name of Object.keys(spec.args)) {
    const value = has(given, name) ? given[name] : undefined;
    if (value === undefined) {
      problems.push({ field: `params.args.${name}`, problems: ['is required'] });
      continue;
    }
    // The metadata of an app started by an older device may hold a pattern this one refuses.
    const pattern = catalogPattern(spec.args[name]);
    const problem = typeof pattern === 'string' ? `cannot be checked: the app's pattern ${pattern}` : appArgumentProblem(pattern, value);
    if (problem) problems.push({ field: `params.args.${name}`, problems: [problem] });
  }
  for (const name of Object.keys(given)) {
    if (!has(spec.args, name)) problems.push({ field: `params.args.${name}`, problems: ['is not an argument of this command'] });
  }
  if (problems.length) return { problems };
  return { argv: spec.argv.map((element) => { const p = placeholderOf(element); return p === undefined ? element : given[p]; }) };
}
