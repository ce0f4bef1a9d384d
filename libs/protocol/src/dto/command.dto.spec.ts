import {
  CommandAckDto,
  CommandEnvelopeDto,
  CommandProgressDto,
  CommandResultDto,
  OkAckDto,
  ProtocolErrorDto,
  isCommandType,
  protocolError,
} from '@mosaic/protocol';
import { badFields, problems } from '../../../../test/support/payload-problems';


const ID = '0b0c2d3e-4f50-4617-8899-aabbccddeeff';
const AT = '2026-11-25T10:00:00.000Z';
const ERROR = { code: 'INVALID_PARAMS', message: 'The params are not valid.', details: [{ field: 'x', problems: ['y'] }] };

describe('CommandEnvelopeDto (§2)', () => {
  const envelope = (overrides: Record<string, unknown> = {}) => ({
    id: ID,
    type: 'SystemCommand.info',
    issuedAt: AT,
    params: {},
    ...overrides,
  });

  it('accepts the envelope of §2', () => {
    expect(problems(CommandEnvelopeDto, envelope())).toEqual([]);
  });

  it('accepts an unknown type: UNKNOWN_COMMAND is decided by isCommandType, not here', () => {
    const input = envelope({ type: 'SchedulerAction.restart' });
    expect(problems(CommandEnvelopeDto, input)).toEqual([]);
    expect(isCommandType(input.type)).toBe(false);
  });

  describe('issuedAt: an ISO-8601 UTC time', () => {
    it.each([
      ['milliseconds', '2026-11-25T10:00:00.000Z'],
      ['no fraction', '2026-11-25T10:00:00Z'],
      ['one fraction digit', '2026-11-25T10:00:00.1Z'],
      ['microseconds', '2026-11-25T10:00:00.123456Z'],
      ['a leap day', '2028-02-29T23:59:59.999Z'],
      ['the last second of a year', '2026-12-31T23:59:59Z'],
    ])('accepts %s', (_label, issuedAt) => {
      expect(problems(CommandEnvelopeDto, envelope({ issuedAt }))).toEqual([]);
    });

    it.each([
      ['an offset instead of Z', '2026-11-25T10:00:00.000+01:00'],
      ['a +00:00 offset', '2026-11-25T10:00:00.000+00:00'],
      ['no zone (local time)', '2026-11-25T10:00:00.000'],
      ['a date only', '2026-11-25'],
      ['a space instead of T', '2026-11-25 10:00:00Z'],
      ['lower-case t and z', '2026-11-25t10:00:00z'],
      ['no seconds', '2026-11-25T10:00Z'],
      ['February 30th', '2026-02-30T00:00:00Z'],
      ['February 29th of a common year', '2026-02-29T00:00:00Z'],
      ['April 31st', '2026-04-31T12:00:00Z'],
      ['month 13', '2026-13-01T00:00:00Z'],
      ['hour 24', '2026-11-25T24:00:00Z'],
      ['minute 60', '2026-11-25T10:60:00Z'],
      ['second 60', '2026-11-25T10:00:60Z'],
      ['an RFC 1123 date', 'Wed, 25 Nov 2026 10:00:00 GMT'],
      ['a trailing newline', '2026-11-25T10:00:00.000Z\n'],
      ['an expanded year', '+002026-11-25T10:00:00.000Z'],
      ['empty', ''],
      ['epoch milliseconds', 1795600800000],
      ['null', null],
    ])('refuses %s', (_label, issuedAt) => {
      expect(badFields(CommandEnvelopeDto, envelope({ issuedAt }))).toEqual(['issuedAt']);
    });
  });

  it.each([
    ['an upper-case id', envelope({ id: ID.toUpperCase() }), ['id']],
    ['an id that is not a uuid', envelope({ id: 'cmd-1' }), ['id']],
    ['an empty type', envelope({ type: '' }), ['type']],
    ['a type of 65 characters', envelope({ type: 'x'.repeat(65) }), ['type']],
    ['a type that is a number', envelope({ type: 1 }), ['type']],
    ['params as an array', envelope({ params: [] }), ['params']],
    ['params: null', envelope({ params: null }), ['params']],
    ['params as a string', envelope({ params: '{}' }), ['params']],
    ['no params', { id: ID, type: 'SystemCommand.info', issuedAt: AT }, ['params']],
    ['no id', { type: 'SystemCommand.info', issuedAt: AT, params: {} }, ['id']],
    ['an unknown field', envelope({ signature: 'x' }), ['signature']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(CommandEnvelopeDto, input)).toEqual(fields);
  });
});

describe('CommandAckDto (§2)', () => {
  it.each([
    ['accepted', { id: ID, accepted: true }],
    ['a duplicate', { id: ID, accepted: true, duplicate: true }],
    ['a refusal with its error', { id: ID, accepted: false, error: ERROR }],
    ['a refusal built by protocolError()', { id: ID, accepted: false, error: protocolError('BUSY', 'Busy.') }],
  ])('accepts %s', (_label, ack) => {
    expect(problems(CommandAckDto, ack)).toEqual([]);
  });

  it.each([
    ['a refusal without an error', { id: ID, accepted: false }, ['error']],
    ['an acceptance that carries an error', { id: ID, accepted: true, error: ERROR }, ['error']],
    ['a refusal marked duplicate', { id: ID, accepted: false, duplicate: true, error: ERROR }, ['duplicate']],
    ['duplicate: false', { id: ID, accepted: true, duplicate: false }, ['duplicate']],
    ['duplicate: null', { id: ID, accepted: true, duplicate: null }, ['duplicate']],
    ['an error code in lower case', { id: ID, accepted: false, error: { ...ERROR, code: 'busy' } }, ['error.code']],
    ['an error without a message', { id: ID, accepted: false, error: { code: 'BUSY' } }, ['error.message']],
    ['an error that is a string', { id: ID, accepted: false, error: 'BUSY' }, ['error']],
    ['accepted as a string', { id: ID, accepted: 'true' }, ['accepted']],
    ['no id', { accepted: true }, ['id']],
  ])('refuses %s', (_label, ack, fields) => {
    expect(badFields(CommandAckDto, ack)).toEqual(fields);
  });
});

describe('CommandResultDto (§2: command.result)', () => {
  const success = { id: ID, type: 'AppCommand.run', ok: true, result: { exitCode: 0 }, finishedAt: AT };
  const failure = { id: ID, type: 'AppCommand.run', ok: false, error: { code: 'NOT_RUNNING', message: 'Not running.' }, finishedAt: AT };

  it('accepts ok: true with a result', () => {
    expect(problems(CommandResultDto, success)).toEqual([]);
  });

  it('accepts ok: true with an empty result', () => {
    expect(problems(CommandResultDto, { ...success, result: {} })).toEqual([]);
  });

  it('accepts ok: false with an error', () => {
    expect(problems(CommandResultDto, failure)).toEqual([]);
  });

  it('accepts ok: false with error details of any shape', () => {
    const error = { code: 'POLICY_VIOLATION', message: 'Refused.', details: ['privileged', { service: 'app' }, null] };
    expect(problems(CommandResultDto, { ...failure, error })).toEqual([]);
  });

  const { result: _result, ...successWithoutResult } = success;
  const { error: _error, ...failureWithoutError } = failure;

  it.each([
    ['ok: true without a result', successWithoutResult, ['result']],
    ['ok: false without an error', failureWithoutError, ['error']],
    ['ok: true that also carries an error', { ...success, error: failure.error }, ['error']],
    ['ok: false that also carries a result', { ...failure, result: {} }, ['result']],
    ['a result that is an array', { ...success, result: [] }, ['result']],
    ['a result that is null', { ...success, result: null }, ['result']],
    ['an error with an unknown field', { ...failure, error: { ...failure.error, stack: 'at x' } }, ['error.stack']],
    ['an error code that is not UPPER_SNAKE', { ...failure, error: { ...failure.error, code: 'not-running' } }, ['error.code']],
    ['ok as a string', { ...success, ok: 'true' }, ['ok']],
    ['a finishedAt with an offset', { ...success, finishedAt: '2026-11-25T11:00:00.000+01:00' }, ['finishedAt']],
    ['no finishedAt', { id: ID, type: 'AppCommand.run', ok: true, result: {} }, ['finishedAt']],
    ['an upper-case id', { ...success, id: ID.toUpperCase() }, ['id']],
    ['an unknown field', { ...success, extra: 1 }, ['extra']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(CommandResultDto, input).sort()).toEqual(fields);
  });
});

describe('CommandProgressDto (§2: command.progress)', () => {
  it.each([
    ['only id and stage', { id: ID, stage: 'pull' }],
    ['percent 0', { id: ID, stage: 'pull', percent: 0 }],
    ['percent 100 and a message', { id: ID, stage: 'pull', percent: 100, message: 'done' }],
    ['a message of 1,024 characters', { id: ID, stage: 'pull', message: 'm'.repeat(1024) }],
  ])('accepts %s', (_label, input) => {
    expect(problems(CommandProgressDto, input)).toEqual([]);
  });

  it.each([
    ['percent 101', { id: ID, stage: 'pull', percent: 101 }, ['percent']],
    ['percent -1', { id: ID, stage: 'pull', percent: -1 }, ['percent']],
    ['a fractional percent', { id: ID, stage: 'pull', percent: 50.5 }, ['percent']],
    ['percent: null', { id: ID, stage: 'pull', percent: null }, ['percent']],
    ['percent as a string', { id: ID, stage: 'pull', percent: '50' }, ['percent']],
    ['a message of 1,025 characters', { id: ID, stage: 'pull', message: 'm'.repeat(1025) }, ['message']],
    ['an empty stage', { id: ID, stage: '' }, ['stage']],
    ['no stage', { id: ID }, ['stage']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(CommandProgressDto, input)).toEqual(fields);
  });
});

describe('OkAckDto (acknowledgements of reports, results and keys)', () => {
  it.each([
    ['{ ok: true }', { ok: true }],
    ['a refusal with its error', { ok: false, error: { code: 'KEYS_EXIST', message: 'Keys exist.' } }],
  ])('accepts %s', (_label, input) => {
    expect(problems(OkAckDto, input)).toEqual([]);
  });

  it.each([
    ['ok: false without an error', { ok: false }, ['error']],
    ['ok: true with an error', { ok: true, error: { code: 'X', message: 'm' } }, ['error']],
    ['ok missing', {}, ['ok']],
    ['ok as a number', { ok: 1 }, ['ok']],
    ['an unknown field', { ok: true, extra: 1 }, ['extra']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(OkAckDto, input)).toEqual(fields);
  });
});

describe('ProtocolErrorDto (the one error shape)', () => {
  it.each([
    ['code and message', { code: 'PASSPHRASE_MISMATCH', message: 'The passphrase does not match.' }],
    ['details: null', { code: 'X', message: 'm', details: null }],
    ['details as a list', { code: 'INVALID_PARAMS', message: 'm', details: [{ field: 'a', problems: ['b'] }] }],
    ['details as a string', { code: 'X', message: 'm', details: 'text' }],
    ['a code with digits', { code: 'E2BIG', message: 'm' }],
  ])('accepts %s', (_label, input) => {
    expect(problems(ProtocolErrorDto, input)).toEqual([]);
  });

  it.each([
    ['a lower-case code', { code: 'unauthorized', message: 'm' }, ['code']],
    ['a code with a hyphen', { code: 'NOT-FOUND', message: 'm' }, ['code']],
    ['a code that starts with a digit', { code: '404', message: 'm' }, ['code']],
    ['a numeric code', { code: 404, message: 'm' }, ['code']],
    ['an empty message', { code: 'X', message: '' }, ['message']],
    ['a message of 4,097 characters', { code: 'X', message: 'm'.repeat(4097) }, ['message']],
    ['no message', { code: 'X' }, ['message']],
    ['an unknown field', { code: 'X', message: 'm', stack: 'Error: at' }, ['stack']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(ProtocolErrorDto, input)).toEqual(fields);
  });
});
