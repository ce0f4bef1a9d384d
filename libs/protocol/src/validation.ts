import { ClassConstructor, plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

/** One field of a payload and everything wrong with it: the `details` of INVALID_PARAMS. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

export type Validated<T> = { ok: true; value: T } | { ok: false; details: FieldProblem[] };

/**
 * Keys refused anywhere: those that could reach an object's prototype when a payload is copied,
 * and the names of Object.prototype's members (toString, valueOf, hasOwnProperty, …), which the
 * copy into a DTO silently skipped, so they were dropped instead of refused as unknown fields.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);
const MAX_DEPTH = 32;
/**
 * The most items of any list in a payload (the protocol's longest, report.volumes, holds 2,000):
 * refused before class-validator, whose ArrayUnique compares every item with every other, so a
 * list of a million short strings would hold the receiver's event loop for minutes.
 */
export const MAX_LIST_ITEMS = 10_000;

/** Whether payloads may never carry `key` (docs/protocol.md, Strict payloads). */
export function isRefusedKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function findForbiddenKeys(value: unknown, path: string, depth: number, out: FieldProblem[]): void {
  if (depth > MAX_DEPTH) {
    out.push({ field: path || '(payload)', problems: [`nests deeper than ${MAX_DEPTH} levels`] });
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_LIST_ITEMS) {
      out.push({ field: path || '(payload)', problems: [`holds ${value.length} items, more than ${MAX_LIST_ITEMS}`] });
      return;
    }
    value.forEach((item, i) => findForbiddenKeys(item, `${path}[${i}]`, depth + 1, out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) out.push({ field, problems: [`the key "${key}" is not allowed`] });
    else findForbiddenKeys((value as Record<string, unknown>)[key], field, depth + 1, out);
  }
}

function flatten(errors: ValidationError[], prefix: string, out: FieldProblem[]): void {
  for (const error of errors) {
    const property = error.property ?? '';
    // A numeric property is an array index (DTO properties are names): `apps[0].instance`,
    // the same notation as findForbiddenKeys.
    const field = !property
      ? prefix || '(payload)'
      : /^\d+$/.test(property)
        ? `${prefix}[${property}]`
        : prefix
          ? `${prefix}.${property}`
          : property;
    const problems = Object.values(error.constraints ?? {});
    if (problems.length) out.push({ field, problems });
    if (error.children?.length) flatten(error.children, field, out);
  }
}

/**
 * Validates an untrusted payload against a DTO class: unknown fields are refused, nested DTOs
 * are checked, and prototype keys never reach an object. Returns the typed value or, per field,
 * why it was refused.
 */
export function validatePayload<T extends object>(dto: ClassConstructor<T>, input: unknown, path = ''): Validated<T> {
  if (!isPlainObject(input)) {
    return { ok: false, details: [{ field: path || '(payload)', problems: ['must be a JSON object'] }] };
  }
  const forbidden: FieldProblem[] = [];
  findForbiddenKeys(input, path, 0, forbidden);
  if (forbidden.length) return { ok: false, details: forbidden };

  const instance = plainToInstance(dto, input, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length === 0) return { ok: true, value: instance };
  const details: FieldProblem[] = [];
  flatten(errors, path, details);
  return { ok: false, details };
}

/** One line naming every bad field, for logs and error messages. */
export function describeProblems(details: FieldProblem[]): string {
  return details.map((d) => `${d.field}: ${d.problems.join('; ')}`).join(', ');
}
