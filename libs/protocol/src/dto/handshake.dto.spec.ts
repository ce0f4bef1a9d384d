import { HandshakeAuthDto, HelloDto, PROTOCOL_VERSION, PassphraseProveDto } from '@mosaic/protocol';
import { badFields, problems } from '../../../../test/support/payload-problems';


const base64OfBytes = (n: number) => Buffer.alloc(n, 7).toString('base64');

describe('HandshakeAuthDto (§1: the auth object)', () => {
  const auth = (overrides: Record<string, unknown> = {}) => ({
    protocol: PROTOCOL_VERSION,
    token: 'dev_7f3a9c',
    name: 'living-room-nas',
    version: '0.1.0',
    ...overrides,
  });

  it('accepts the auth object of §1', () => {
    expect(problems(HandshakeAuthDto, auth())).toEqual([]);
  });

  it('accepts a protocol it does not speak: PROTOCOL_UNSUPPORTED is decided after validation', () => {
    expect(problems(HandshakeAuthDto, auth({ protocol: 2 }))).toEqual([]);
  });

  it.each([
    ['protocol as a string', auth({ protocol: '1' }), ['protocol']],
    ['a fractional protocol', auth({ protocol: 1.5 }), ['protocol']],
    ['no protocol', auth({ protocol: undefined }), ['protocol']],
    ['an empty token', auth({ token: '' }), ['token']],
    ['a token of 513 characters', auth({ token: 't'.repeat(513) }), ['token']],
    ['a name with a newline (it reaches logs)', auth({ name: 'nas\nINFO forged line' }), ['name']],
    ['an empty name', auth({ name: '' }), ['name']],
    ['a version that is not semver', auth({ version: 'latest' }), ['version']],
    ['an unknown field', auth({ admin: true }), ['admin']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(HandshakeAuthDto, input)).toEqual(fields);
  });
});

describe('HelloDto (§1: hello)', () => {
  const hello = (overrides: Record<string, unknown> = {}) => ({
    deviceId: '6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    account: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4',
    passphrase: { salt: base64OfBytes(16), set: true },
    hive: { version: '1.0.0', time: '2026-11-25T10:00:00.000Z' },
    ...overrides,
  });

  it('accepts the hello of §1', () => {
    expect(problems(HelloDto, hello())).toEqual([]);
  });

  it('accepts set: false', () => {
    expect(problems(HelloDto, hello({ passphrase: { salt: base64OfBytes(32), set: false } }))).toEqual([]);
  });

  it.each([
    ['a salt of 15 bytes', { salt: base64OfBytes(15), set: true }, ['passphrase.salt']],
    ['a salt that is not base64', { salt: 'not base64 at all!!', set: true }, ['passphrase.salt']],
    ['a salt without padding', { salt: base64OfBytes(16).replace(/=+$/, ''), set: true }, ['passphrase.salt']],
    ['a salt in base64url', { salt: Buffer.alloc(18, 0xfb).toString('base64url'), set: true }, ['passphrase.salt']],
    ['an empty salt', { salt: '', set: true }, ['passphrase.salt']],
    ['set as a string', { salt: base64OfBytes(16), set: 'true' }, ['passphrase.set']],
    ['an unknown field (a weaker N)', { salt: base64OfBytes(16), set: true, N: 1024 }, ['passphrase.N']],
  ])('refuses %s', (_label, passphrase, fields) => {
    expect(badFields(HelloDto, hello({ passphrase }))).toEqual(fields);
  });

  it.each([
    ['an upper-case deviceId', hello({ deviceId: '6A1F0C2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B' }), ['deviceId']],
    ['no passphrase', hello({ passphrase: undefined }), ['passphrase']],
    ['passphrase as an array', hello({ passphrase: [{ salt: base64OfBytes(16), set: true }] }), ['passphrase']],
    ['no hive', hello({ hive: undefined }), ['hive']],
    ['a hive time that is not UTC', hello({ hive: { version: '1.0.0', time: '2026-11-25T10:00:00' } }), ['hive.time']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(HelloDto, input)).toEqual(fields);
  });
});

describe('PassphraseProveDto (§1: passphrase.prove)', () => {
  it('accepts the base64 of a 32-byte verifier', () => {
    expect(problems(PassphraseProveDto, { verifier: base64OfBytes(32) })).toEqual([]);
  });

  it.each([
    ['31 bytes', { verifier: base64OfBytes(31) }, ['verifier']],
    ['not base64', { verifier: 'hunter2 hunter2 hunter2 hunter2 hunter2 hunter2' }, ['verifier']],
    ['a number', { verifier: 1 }, ['verifier']],
    ['no verifier', {}, ['verifier']],
    ['the passphrase sent alongside', { verifier: base64OfBytes(32), passphrase: 'secret' }, ['passphrase']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(PassphraseProveDto, input)).toEqual(fields);
  });
});
