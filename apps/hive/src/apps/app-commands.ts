import { FieldProblem, Patterns, appArgumentProblem, catalogPattern, isRefusedKey } from '@mosaic/protocol';
import { posix } from 'node:path';

/** An app command as declared in a compose template's `x-mosaic.commands` (docs/protocol.md §2.3). */
export interface AppCommandSpec {
  service: string;
  argv: string[];
  /** Placeholder name → the pattern its value must match as a whole. */
  args: Record<string, string>;
  timeoutSeconds: number;
}

/** §2.3: the pattern of an argument whose declaration names none. */
export const DEFAULT_ARG_PATTERN = '^[A-Za-z0-9._@-]{1,128}$';
const MAX_TIMEOUT_S = 3600;
const PLACEHOLDER = /^\{\{([A-Za-z_][A-Za-z0-9_]{0,63})\}\}$/;
/** argv[0] values that are a shell, or run any program by another name; the device refuses them too. */
const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'ash',
  'zsh',
  'ksh',
  'mksh',
  'csh',
  'tcsh',
  'fish',
  'busybox',
  'env',
  'su',
  'sudo',
  'xargs',
  'nsenter',
  'chroot',
]);
const FIELDS = ['service', 'argv', 'args', 'timeoutSeconds'];

type Json = Record<string, unknown>;
const isMap = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Compose reads `$$` as a literal `$` in every string of the file, x-mosaic included. */
const unescape = (value: string): string => value.replace(/\$\$/g, '$');

export function placeholderOf(element: string): string | undefined {
  return PLACEHOLDER.exec(element)?.[1];
}

/**
 * Reads `x-mosaic.commands` of a template the way the device will: returns the commands and,
 * one sentence each, why a declaration would be refused when the app starts.
 */
export function parseAppCommands(extension: unknown, services: string[]): { commands: Record<string, AppCommandSpec>; problems: string[] } {
  const commands: Record<string, AppCommandSpec> = {};
  const problems: string[] = [];
  if (extension === undefined) return { commands, problems };
  if (!isMap(extension)) return { commands, problems: ['x-mosaic must be a map'] };
  const unknown = Object.keys(extension).filter((key) => key !== 'commands');
  if (unknown.length) problems.push(`x-mosaic has unknown fields ${unknown.join(', ')}`);
  const declared = extension.commands;
  if (declared === undefined) return { commands, problems };
  if (!isMap(declared)) return { commands, problems: [...problems, 'x-mosaic.commands must be a map of commands'] };

  for (const [name, raw] of Object.entries(declared)) {
    const bad = (message: string) => problems.push(`x-mosaic.commands.${name}: ${message}`);
    if (!Patterns.appCommandName.test(name)) {
      bad('the name must match ^[a-z0-9][a-z0-9_.-]{0,63}$');
      continue;
    }
    if (!isMap(raw)) {
      bad('must be a map with service and argv');
      continue;
    }
    const extra = Object.keys(raw).filter((key) => !FIELDS.includes(key));
    if (extra.length) bad(`unknown fields ${extra.join(', ')}`);
    if (typeof raw.service !== 'string' || !services.includes(raw.service))
      bad(`service must name one of the app's services (${services.join(', ')})`);
    const argv = raw.argv;
    if (!Array.isArray(argv) || argv.length === 0 || argv.length > 64 || !argv.every((a) => typeof a === 'string' && a.length <= 4096)) {
      bad('argv must be a list of 1 to 64 strings');
      continue;
    }
    const elements = (argv as string[]).map(unescape);
    if (placeholderOf(elements[0]) !== undefined) bad('argv[0] may not be a placeholder');
    if (SHELLS.has(posix.basename(elements[0]))) bad(`argv[0] "${elements[0]}" is a shell; an app command runs a program directly`);
    for (const element of elements) {
      if (element.includes('{{') && placeholderOf(element) === undefined)
        bad(`"${element}" mixes a placeholder with text; a placeholder is a whole argument`);
    }
    const placeholders = elements
      .slice(1)
      .map(placeholderOf)
      .filter((p): p is string => p !== undefined);
    const declaredArgs = raw.args ?? {};
    if (!isMap(declaredArgs)) {
      bad('args must be a map');
      continue;
    }
    const args: Record<string, string> = {};
    for (const placeholder of placeholders) {
      if (isRefusedKey(placeholder)) {
        bad(`placeholder "${placeholder}" is a key payloads may not carry; rename it`);
        continue;
      }
      const spec = Object.hasOwn(declaredArgs, placeholder) ? declaredArgs[placeholder] : undefined;
      if (spec !== undefined && (!isMap(spec) || Object.keys(spec).some((key) => key !== 'pattern'))) {
        bad(`args.${placeholder} may only have a pattern`);
        continue;
      }
      const pattern = spec?.pattern === undefined ? DEFAULT_ARG_PATTERN : spec.pattern;
      if (typeof pattern !== 'string') {
        bad(`args.${placeholder}.pattern must be a string`);
        continue;
      }
      const unescaped = unescape(pattern);
      const refusal = patternRefusal(unescaped);
      if (refusal) {
        bad(`args.${placeholder}.pattern ${refusal}`);
        continue;
      }
      args[placeholder] = unescaped;
    }
    const orphans = Object.keys(declaredArgs).filter((arg) => !placeholders.includes(arg));
    if (orphans.length) bad(`args ${orphans.join(', ')} have no placeholder in argv`);
    const timeout = raw.timeoutSeconds ?? 60;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_S) {
      bad(`timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_S}`);
    }
    commands[name] = { service: String(raw.service), argv: elements, args, timeoutSeconds: Number(timeout) };
  }
  return { commands: problems.length ? {} : commands, problems };
}

/**
 * The device's rules for a run's arguments (§2.3): exactly the command's placeholders, each
 * matching its pattern as a whole. Fields are named as in the REST body (`args.text`).
 */
export function appCommandArgProblems(spec: AppCommandSpec, given: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [name, source] of Object.entries(spec.args)) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      problems.push({ field: `args.${name}`, problems: ['is required'] });
      continue;
    }
    const pattern = catalogPattern(source);
    const problem = typeof pattern === 'string' ? `cannot be checked: the app's pattern ${pattern}` : appArgumentProblem(pattern, value);
    if (problem) problems.push({ field: `args.${name}`, problems: [problem] });
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(spec.args, name)) problems.push({ field: `args.${name}`, problems: ['is not an argument of this command'] });
  }
  return problems;
}

/** The command declared under `name`: own entries only, so `constructor` is no command. */
export function declaredCommand(commands: Record<string, AppCommandSpec>, name: string): AppCommandSpec | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : undefined;
}

/** Why a catalog pattern is refused (the device's rule: RE2, bounded cost), or undefined; compiled once and kept. */
export function patternRefusal(pattern: string): string | undefined {
  const compiled = catalogPattern(pattern);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** A declared pattern must match the whole value, whether or not its author anchored it; false for a refused pattern. */
export function wholeMatch(pattern: string, value: string): boolean {
  const compiled = catalogPattern(pattern);
  return typeof compiled !== 'string' && compiled.matches(value);
}
