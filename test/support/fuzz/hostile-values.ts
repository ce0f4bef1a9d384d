import fc from 'fast-check';

/** Keys that reach an object's prototype, or are named like Object.prototype's members. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'toLocaleString',
  '__defineGetter__',
  'propertyIsEnumerable',
];

/** Strings people use to break parsers, shells, paths and patterns. */
const NASTY = [
  '',
  ' ',
  '\0',
  'a\0b',
  '-',
  '-rf',
  '--help',
  '--output=/etc/passwd',
  '../../etc/passwd',
  '/etc/shadow',
  '$(id)',
  '`id`',
  '; rm -rf /',
  '|| true',
  '${HOME}',
  '$$APP_INSTANCE',
  '{{x}}',
  '\n',
  '\r\n',
  '\u202eevil',
  '\ud800',
  '𝕏🙂',
  'e\u0301',
  '%s%n%x',
  'null',
  'undefined',
  'NaN',
  '1e309',
  ...PROTOTYPE_KEYS,
];

/** One huge string: from just under to well over the protocol's limits (4,096 characters, 256 KiB). */
export const hugeString = fc
  .tuple(fc.constantFrom(129, 4096, 4097, 64 * 1024, 256 * 1024 + 1, 300 * 1024), fc.constantFrom('a', '-', 'é', '\u{1F600}', 'aa!'))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: hugeString },
);

/** An object with `key` as an own, enumerable property, as JSON.parse makes one (`__proto__` included). */
export function withOwnKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  return target;
}

/** A value nested `depth` levels deep in objects and arrays. */
export function nested(depth: number, leaf: unknown = 'x'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

export const deepValue = fc.integer({ min: 30, max: 300 }).map((depth) => nested(depth));

export const prototypeObject = fc
  .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }))
  .map(([key, value]) => withOwnKey({}, key, value));

/** Any JSON-ish value a hostile peer can send over socket.io, binary included. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, -0) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.string(), { maxLength: 4 }) },
  { weight: 1, arbitrary: prototypeObject },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
);

/** An ISO time `offsetS` seconds from now, or a malformed one. */
export const hostileTime = fc.oneof(
  fc
    .constantFrom(-301, -400, -86_400, -1_000_000_000, 61, 120, 86_400 * 365 * 100)
    .map((s) => new Date(Date.now() + s * 1000).toISOString()),
  fc.constantFrom(
    '2026-02-30T10:00:00.000Z',
    '2026-12-06T10:00:00+01:00',
    '2026-12-06 10:00:00Z',
    '2026-12-06T25:00:00Z',
    '2026-12-06T10:00:00.0000000000Z',
    '+275760-09-13T00:00:00.000Z',
    '0000-01-01T00:00:00Z',
    'now',
    '',
  ),
  hostileValue,
);

/** Now, as a well-formed `issuedAt`. */
export const now = () => new Date().toISOString();

/** Whether `test` holds for `value`, or any value or key inside it. */
function some(value: unknown, test: (v: unknown, key?: string) => boolean, depth = 0): boolean {
  if (test(value)) return true;
  if (depth > 400 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  return Object.keys(value).some((key) => test(undefined, key) || some((value as Record<string, unknown>)[key], test, depth + 1));
}

/**
 * Whether socket.io's own encoder loses a `__proto__` key of `value`: a packet holding binary (a
 * Buffer, or the Uint8Array structuredClone makes of one) is rebuilt key by key by assignment,
 * which makes `__proto__` the new object's prototype, so the key never reaches the wire (the
 * device then rightly sees an object without it).
 */
export function senderDropsProtoKey(value: unknown): boolean {
  return some(value, (v) => ArrayBuffer.isView(v) || v instanceof ArrayBuffer) && some(value, (_v, key) => key === '__proto__');
}
