import { ClassConstructor } from 'class-transformer';
import { ValidateIf, ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';
import { validatePayload } from '../validation';

/** The shapes docs/protocol.md fixes, as patterns. */
export const Patterns = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  isoUtc: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/,
  appName: /^[a-z0-9][a-z0-9-]{0,62}$/,
  appVersion: /^[A-Za-z0-9._-]{1,64}$/,
  variableName: /^[A-Z][A-Z0-9_]{0,63}$/,
  /** Link names become part of LINK_DOMAIN_<NAME>; not fixed by the protocol, chosen to fit a variable name. */
  linkName: /^[a-z][a-z0-9_]{0,31}$/,
  appCommandName: /^[a-z0-9][a-z0-9_.-]{0,63}$/,
  argName: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
  printable: /^[\x20-\x7e]*$/,
  fingerprint: /^[0-9a-f]{40}$/,
  base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  semver: /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/,
  /**
   * A Docker image reference as the distribution project's grammar has it: `[host[:port]/]path[:tag][@sha256:digest]`,
   * path components in lower case. Length is checked on its own (at most 512).
   */
  imageRef:
    /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/,
  upperSnake: /^[A-Z][A-Z0-9_]*$/,
} as const;

/** The variables the device sets itself (§2.1); Hive may not give them. */
export const RESERVED_VARIABLES = ['APP_INSTANCE', 'APP_VOLUME_NAME', 'LINK_VOLUME_NAME'] as const;
export const RESERVED_VARIABLE_PREFIXES = ['LINK_DOMAIN_', 'LINK_TOKEN_'] as const;

export function isReservedVariable(name: string): boolean {
  return (
    (RESERVED_VARIABLES as readonly string[]).includes(name) ||
    RESERVED_VARIABLE_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}

/**
 * An ISO-8601 UTC time that names a real instant: `Date.parse` alone rolls impossible dates
 * over (`2026-02-30` becomes March 2nd, `T24:00:00` the next day), so the parsed time must
 * print back as the same date and time.
 */
export function isIsoUtc(value: unknown): value is string {
  if (typeof value !== 'string' || !Patterns.isoUtc.test(value)) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === value.slice(0, 19);
}

/** Length in characters (Unicode code points), not UTF-16 units: an emoji is one character. */
export function charLength(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, at most 253 characters. */
export function isHostName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return false;
  return value.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

function decorator(name: string, message: string, test: (value: unknown) => boolean, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => test(value),
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} ${message}`,
      },
    });
}

export const IsIsoUtc = (options?: ValidationOptions) =>
  decorator('isIsoUtc', 'must be an ISO-8601 UTC time such as 2026-11-25T10:00:00.000Z', isIsoUtc, options);

export const IsHostName = (options?: ValidationOptions) =>
  decorator('isHostName', 'must be an RFC 1123 host name', isHostName, options);

export const IsProtocolUuid = (options?: ValidationOptions) =>
  decorator(
    'isProtocolUuid',
    'must be an RFC 4122 UUID in lower case',
    (v) => typeof v === 'string' && Patterns.uuid.test(v),
    options,
  );

export const IsStrictBase64 = (minBytes: number, options?: ValidationOptions) =>
  decorator(
    'isStrictBase64',
    `must be base64 of at least ${minBytes} bytes`,
    (v) => typeof v === 'string' && v.length > 0 && Patterns.base64.test(v) && Buffer.from(v, 'base64').length >= minBytes,
    options,
  );

/** A byte limit (the protocol's KiB limits are bytes; class-validator counts UTF-16 units). */
export const MaxUtf8Bytes = (max: number, options?: ValidationOptions) =>
  decorator(
    'maxUtf8Bytes',
    `must be at most ${max} bytes of UTF-8`,
    (v) => typeof v === 'string' && Buffer.byteLength(v, 'utf8') <= max,
    options,
  );

/**
 * For payloads that must be `{}`: the one (phantom) property it decorates must be absent. Every
 * other field is already refused by validatePayload's whitelist, so each stray field is
 * reported once, under its own name.
 */
export function HasNoFields() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'hasNoFields',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => value === undefined,
        defaultMessage: (args?: ValidationArguments) => `property ${args?.property ?? 'value'} should not exist: takes no fields`,
      },
    });
}

/**
 * An optional field: it may be absent, but when present every other rule applies. Unlike
 * class-validator's IsOptional, JSON `null` is not "absent": it is a value of the wrong type.
 */
export const IsOptionalNotNull = (options?: ValidationOptions) =>
  ValidateIf((_object: object, value: unknown) => value !== undefined, options);

/**
 * A field that belongs to only one variant of a payload (`error` when `ok` is false, …): when
 * `allowed(object)` is false it must be absent. Pair it with a ValidateIf that also runs the
 * field's rules whenever the field is present. Let `allowed` hold while the discriminating
 * field is itself invalid, so that only that field is blamed.
 */
export function IsAbsentUnless(allowed: (object: any) => boolean, when: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isAbsentUnless',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => value === undefined || allowed(args?.object),
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} is only allowed when ${when}`,
      },
    });
}

export interface RecordRule {
  /** What every key must match, and how to say so. */
  key: RegExp;
  keyHint: string;
  maxKeys: number;
  /** Returns why a value is refused, or null when it is fine. */
  value: (value: unknown, key: string) => string | null;
}

/** Problems of a string-keyed map (variables, args, links), one sentence each. */
export function recordProblems(value: unknown, rule: RecordRule): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['must be a JSON object'];
  const keys = Object.keys(value);
  const problems: string[] = [];
  if (keys.length > rule.maxKeys) problems.push(`may have at most ${rule.maxKeys} entries (has ${keys.length})`);
  for (const key of keys) {
    if (!rule.key.test(key)) problems.push(`key "${key.slice(0, 80)}" ${rule.keyHint}`);
    const why = rule.value((value as Record<string, unknown>)[key], key);
    if (why) problems.push(`"${key.slice(0, 80)}" ${why}`);
  }
  return problems;
}

/** A map whose keys and values follow a rule; the message lists every bad entry. */
export function IsRecordOf(rule: RecordRule, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isRecordOf',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => recordProblems(value, rule).length === 0,
        defaultMessage: (args?: ValidationArguments) => recordProblems(args?.value, rule).join('; '),
      },
    });
}

/** A value rule that validates a nested DTO, for maps of objects. */
export function nestedDto<T extends object>(dto: ClassConstructor<T>): RecordRule['value'] {
  return (value) => {
    const checked = validatePayload(dto, value);
    return checked.ok ? null : checked.details.map((d) => `${d.field}: ${d.problems.join(', ')}`).join('; ');
  };
}
