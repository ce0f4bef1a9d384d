import fc from 'fast-check';
import { CommandType, ErrorCode } from '@mosaic/protocol';
import { PROTOTYPE_KEYS, deepValue, hostileString, hostileTime, hostileValue, hugeString, now, withOwnKey } from './hostile-values';

/** Stands for "a new command id": the sender puts a fresh uuid in its place, so that only `duplicate` cases repeat ids. */
export const FRESH_ID = '<fresh id>';
/** The ids the duplicate cases use, again and again. */
export const DUPLICATE_IDS = [
  '7c0e4c3a-9a51-4f0e-8d0b-6f0f3a1e2b01',
  '7c0e4c3a-9a51-4f0e-8d0b-6f0f3a1e2b02',
  '7c0e4c3a-9a51-4f0e-8d0b-6f0f3a1e2b03',
];

/** One hostile envelope and the outcomes §2 allows for it (codes in the ack, or `ok`/`duplicate`). */
export interface EnvelopeCase {
  kind: string;
  envelope: unknown;
  expected: string[];
}

const FIELDS = ['id', 'type', 'issuedAt', 'params'] as const;
/** Types that cost nothing to run: diskSpace answers from statfs, an upgrade is NOT_ALLOWED without AUTO_UPDATE. */
const CHEAP = [CommandType.DiskSpace, CommandType.UpgradeRun] as const;
const answerOf = (type: string) => (type === CommandType.UpgradeRun ? ErrorCode.NOT_ALLOWED : 'ok');

function base(type: string): Record<string, unknown> {
  return { id: FRESH_ID, type, issuedAt: now(), params: {} };
}

const isEmptyObject = (v: unknown) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && Object.keys(v).length === 0;

const cheapType = fc.constantFrom(...CHEAP);

/** Near misses of real type names, and names that mean something to JavaScript. */
const unknownType = fc.oneof(
  fc.constantFrom(
    'SchedulerAction.Start',
    'scheduleraction.start',
    'SchedulerAction.start ',
    ' SystemCommand.info',
    'SystemCommand.shell',
    'SystemCommand.exec',
    'AppCommand.runAs',
    'SchedulerAction',
    'SchedulerAction.start\0',
    ...PROTOTYPE_KEYS,
  ),
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
);

export const hostileEnvelope: fc.Arbitrary<EnvelopeCase> = fc.oneof(
  // Not an object at all.
  fc
    .oneof(
      hostileString,
      fc.constantFrom(null, 0, true),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
      deepValue,
      fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
    )
    .map((envelope) => ({ kind: 'not an object', envelope, expected: [ErrorCode.INVALID_PARAMS] })),
  // One field of the wrong type or value.
  fc
    .tuple(cheapType, fc.constantFrom(...FIELDS), hostileValue)
    .filter(([, field, value]) => !(field === 'params' && isEmptyObject(value)))
    .map(([type, field, value]) => ({
      kind: `wrong ${field}`,
      envelope: { ...base(type), [field]: value },
      // A type that is a string of 1-64 characters is well-formed, just unknown.
      expected:
        field === 'type'
          ? [ErrorCode.INVALID_PARAMS, ErrorCode.UNKNOWN_COMMAND]
          : field === 'issuedAt'
            ? [ErrorCode.INVALID_PARAMS, ErrorCode.EXPIRED]
            : [ErrorCode.INVALID_PARAMS],
    })),
  // A field missing.
  fc.tuple(cheapType, fc.subarray([...FIELDS], { minLength: 1 })).map(([type, missing]) => {
    const envelope = base(type);
    for (const field of missing) delete envelope[field];
    return { kind: 'missing fields', envelope, expected: [ErrorCode.INVALID_PARAMS] };
  }),
  // An extra key, in the envelope or in its params.
  fc
    .tuple(
      cheapType,
      fc.boolean(),
      fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'extra', 'deviceId', 'auth', 'id ', 'Type'), fc.string({ minLength: 1, maxLength: 20 })),
      hostileValue,
    )
    .filter(([, inParams, key]) => inParams || !FIELDS.includes(key as never))
    .map(([type, inParams, key, value]) => {
      const envelope = base(type);
      if (inParams) envelope.params = withOwnKey({}, key, value);
      else withOwnKey(envelope, key, value);
      return { kind: `extra key${inParams ? ' in params' : ''}`, envelope, expected: [ErrorCode.INVALID_PARAMS] };
    }),
  // Huge and deep values where a short one belongs.
  fc.tuple(cheapType, fc.constantFrom(...FIELDS), fc.oneof(hugeString, deepValue)).map(([type, field, value]) => ({
    kind: 'huge or deep',
    envelope: { ...base(type), [field]: field === 'params' ? { a: value } : value },
    expected: field === 'type' ? [ErrorCode.INVALID_PARAMS, ErrorCode.UNKNOWN_COMMAND] : [ErrorCode.INVALID_PARAMS],
  })),
  // A type the device does not run.
  unknownType.map((type) => ({
    kind: 'unknown type',
    envelope: base(type),
    expected: [ErrorCode.UNKNOWN_COMMAND, ErrorCode.INVALID_PARAMS],
  })),
  // Too old, too far ahead, or no time at all.
  fc.tuple(cheapType, hostileTime).map(([type, issuedAt]) => ({
    kind: 'issuedAt',
    envelope: { ...base(type), issuedAt },
    expected: [ErrorCode.EXPIRED, ErrorCode.INVALID_PARAMS],
  })),
  // An id sent before: the first is accepted, every later one is a duplicate (answered before its age is looked at).
  fc.tuple(cheapType, fc.constantFrom(...DUPLICATE_IDS), fc.boolean()).map(([type, id, old]) => ({
    kind: 'repeated id',
    envelope: { ...base(type), id, issuedAt: old ? new Date(Date.now() - 3600_000).toISOString() : now() },
    expected: ['duplicate', answerOf(type), ...(old ? [ErrorCode.EXPIRED] : [])],
  })),
  // Well-formed, for contrast: these must run.
  cheapType.map((type) => ({ kind: 'well-formed', envelope: base(type), expected: [answerOf(type)] })),
);
