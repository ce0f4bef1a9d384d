import {
  ErrorCode,
  ProtocolErrorDto,
  ProtocolException,
  protocolError,
  toProtocolError,
  validatePayload,
} from '@mosaic/protocol';

/** Every error code the pre-release protocol text named (§1–§3), collected by hand; docs/protocol.md §10 lists v1's additions. */
const PROTOCOL_CODES = [
  'UNAUTHORIZED',
  'PROTOCOL_UNSUPPORTED',
  'PASSPHRASE_MISMATCH',
  'NOT_AUTHENTICATED',
  'UNKNOWN_COMMAND',
  'INVALID_PARAMS',
  'EXPIRED',
  'BUSY',
  'NOT_ALLOWED',
  'NOT_FOUND',
  'NOT_RUNNING',
  'REPLICATION_FAILED',
  'NOT_WRITER',
  'NOT_IN_CONTAINER',
  'INSUFFICIENT_DISK',
  'KEYS_MISSING',
  'COMPOSE_INVALID',
  'POLICY_VIOLATION',
  'RESTORE_FAILED',
  'STORAGE_UNAVAILABLE',
  'DOCKER_ERROR',
  'UNKNOWN_APP_COMMAND',
  'KEYS_EXIST',
];

describe('ErrorCode', () => {
  it.each(PROTOCOL_CODES)('has %s, spelled as on the wire', (code) => {
    expect((ErrorCode as Record<string, string>)[code]).toBe(code);
  });

  it('adds to the pre-release codes only those docs/protocol.md §10 lists: INTERNAL (v1 as shipped) and ROLLED_BACK', () => {
    const extra = Object.values(ErrorCode).filter((code) => !PROTOCOL_CODES.includes(code));
    expect(extra.sort()).toEqual(['INTERNAL', 'ROLLED_BACK']);
  });

  it.each(Object.values(ErrorCode))('%s is UPPER_SNAKE and passes ProtocolErrorDto', (code) => {
    expect(validatePayload(ProtocolErrorDto, protocolError(code, 'A sentence.')).ok).toBe(true);
  });
});

describe('protocolError', () => {
  it('leaves details out when there are none', () => {
    const error = protocolError(ErrorCode.BUSY, 'Another command is running.');
    expect(error).toEqual({ code: 'BUSY', message: 'Another command is running.' });
    expect('details' in error).toBe(false);
  });

  it('keeps details when given, even falsy ones', () => {
    expect(protocolError(ErrorCode.INVALID_PARAMS, 'Bad.', [])).toEqual({ code: 'INVALID_PARAMS', message: 'Bad.', details: [] });
    expect(protocolError(ErrorCode.INVALID_PARAMS, 'Bad.', null)).toEqual({ code: 'INVALID_PARAMS', message: 'Bad.', details: null });
  });
});

describe('ProtocolException and toProtocolError', () => {
  it('carries its code, message and details', () => {
    const err = new ProtocolException(ErrorCode.POLICY_VIOLATION, 'Refused.', ['privileged']);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ProtocolException');
    expect(err.toJSON()).toEqual({ code: 'POLICY_VIOLATION', message: 'Refused.', details: ['privileged'] });
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'POLICY_VIOLATION', message: 'Refused.', details: ['privileged'] });
  });

  it('turns a ProtocolException into its own error', () => {
    expect(toProtocolError(new ProtocolException(ErrorCode.NOT_FOUND, 'No such instance.'))).toEqual({
      code: 'NOT_FOUND',
      message: 'No such instance.',
    });
  });

  it('turns any other Error into the fallback code without its stack', () => {
    const error = toProtocolError(new Error('socket hang up'), ErrorCode.DOCKER_ERROR);
    expect(error).toEqual({ code: 'DOCKER_ERROR', message: 'socket hang up' });
  });

  it('uses INTERNAL when no fallback is given', () => {
    expect(toProtocolError(new TypeError('x is undefined')).code).toBe('INTERNAL');
  });

  it.each([
    ['a string', 'boom', 'boom'],
    ['an Error without a message', new Error(''), 'Unexpected failure.'],
    ['undefined', undefined, 'undefined'],
  ])('describes %s in one message', (_label, thrown, message) => {
    expect(toProtocolError(thrown)).toEqual({ code: 'INTERNAL', message });
  });
});
