import { KEYS_LIST_MAX, KEY_ROLES, KeysGetDto, KeysListAnswerDto, KeysPutDto } from '@mosaic/protocol';
import { badFields, problems } from '../../../../test/support/payload-problems';


const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const PUBLIC_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ0fR2hYJKwYBBAHaRw8BAQdA\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
const PRIVATE_KEY = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxYYEZ0fR2hYJKwYBBAHaRw8BAQdA\n=efgh\n-----END PGP PRIVATE KEY BLOCK-----\n';

const key = (overrides: Record<string, unknown> = {}) => ({
  role: 'app',
  fingerprint: '0123456789abcdef0123456789abcdef01234567',
  publicKey: PUBLIC_KEY,
  encryptedPrivateKey: PRIVATE_KEY,
  ...overrides,
});
const put = (keys: unknown) => ({ instance: INSTANCE, keys });
const pair = () => [key(), key({ role: 'link', fingerprint: 'fedcba9876543210fedcba9876543210fedcba98' })];

describe('KeysPutDto (§3: keys.put)', () => {
  it('knows exactly the roles app and link', () => {
    expect([...KEY_ROLES]).toEqual(['app', 'link']);
  });

  it('accepts an app key and a link key', () => {
    expect(problems(KeysPutDto, put(pair()))).toEqual([]);
  });

  it('accepts them in either order', () => {
    expect(problems(KeysPutDto, put(pair().reverse()))).toEqual([]);
  });

  describe('fingerprint: 40 lower-case hex digits', () => {
    it.each([
      ['upper case', '0123456789ABCDEF0123456789ABCDEF01234567'],
      ['39 digits', '0123456789abcdef0123456789abcdef0123456'],
      ['41 digits', '0123456789abcdef0123456789abcdef012345678'],
      ['a non-hex letter', 'g123456789abcdef0123456789abcdef01234567'],
      ['spaces between groups', '0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567'],
      ['a 0x prefix', '0x0123456789abcdef0123456789abcdef01234567'],
      ['a v5 (64-digit) fingerprint', 'a'.repeat(64)],
      ['a number', 1234],
    ])('refuses %s', (_label, fingerprint) => {
      expect(badFields(KeysPutDto, put([key({ fingerprint }), pair()[1]]))).toEqual(['keys[0].fingerprint']);
    });
  });

  it.each([
    ['a role outside app/link', [key({ role: 'data' }), pair()[1]], ['keys[0].role']],
    ['a role in upper case', [key({ role: 'APP' }), pair()[1]], ['keys[0].role']],
    ['two app keys', [key(), key()], ['keys']],
    ['two link keys', [key({ role: 'link' }), key({ role: 'link' })], ['keys']],
    ['one key only', [key()], ['keys']],
    ['three keys', [...pair(), key()], ['keys']],
    ['no keys', [], ['keys']],
    ['a public key that is not armored', [key({ publicKey: 'xjMEZ0fR2hYJ' }), pair()[1]], ['keys[0].publicKey']],
    ['a public key where the private one belongs', [key({ encryptedPrivateKey: PUBLIC_KEY }), pair()[1]], ['keys[0].encryptedPrivateKey']],
    ['a private key where the public one belongs', [key({ publicKey: PRIVATE_KEY }), pair()[1]], ['keys[0].publicKey']],
    ['a key without its private part', [key({ encryptedPrivateKey: undefined }), pair()[1]], ['keys[0].encryptedPrivateKey']],
    ['a public key over 16 KiB', [key({ publicKey: PUBLIC_KEY.replace('\n\n', '\n\n' + 'A'.repeat(16384)) }), pair()[1]], ['keys[0].publicKey']],
    ['an unknown field in a key', [key({ passphrase: 'secret' }), pair()[1]], ['keys[0].passphrase']],
  ])('refuses %s', (_label, keys, fields) => {
    expect(badFields(KeysPutDto, put(keys))).toEqual(fields);
  });

  it.each([
    ['keys as an object', { app: key() }],
    ['keys: null', null],
    ['keys nested in an array', [pair()]],
  ])('refuses %s', (_label, keys) => {
    expect(badFields(KeysPutDto, put(keys))).toContain('keys');
  });

  it('refuses a missing or upper-case instance', () => {
    expect(badFields(KeysPutDto, { keys: pair() })).toEqual(['instance']);
    expect(badFields(KeysPutDto, { instance: INSTANCE.toUpperCase(), keys: pair() })).toEqual(['instance']);
  });
});

describe('KeysGetDto (§3: keys.get)', () => {
  it('accepts { instance }', () => {
    expect(problems(KeysGetDto, { instance: INSTANCE })).toEqual([]);
  });

  it.each([
    ['no instance', {}, ['instance']],
    ['an upper-case instance', { instance: INSTANCE.toUpperCase() }, ['instance']],
    ['an unknown field', { instance: INSTANCE, role: 'app' }, ['role']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(KeysGetDto, input)).toEqual(fields);
  });
});

describe('KeysListAnswerDto (§3: the answer to keys.list)', () => {
  const other = '9b2e4f6a-1c3d-4e5f-8a7b-6c5d4e3f2a1b';

  it('accepts instances as lower-case UUIDs, none too', () => {
    expect(problems(KeysListAnswerDto, { ok: true, instances: [INSTANCE, other] })).toEqual([]);
    expect(problems(KeysListAnswerDto, { ok: true, instances: [] })).toEqual([]);
  });

  it.each([
    ['not ok', { ok: false, instances: [] }],
    ['no instances', { ok: true }],
    ['a name that is not a UUID', { ok: true, instances: ['../etc'] }],
    ['an upper-case UUID', { ok: true, instances: [INSTANCE.toUpperCase()] }],
    ['one instance twice', { ok: true, instances: [INSTANCE, INSTANCE] }],
    ['more than the most', { ok: true, instances: Array.from({ length: KEYS_LIST_MAX + 1 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }],
    ['a field of its own', { ok: true, instances: [], keys: [] }],
  ])('refuses %s', (_what, answer) => {
    expect(problems(KeysListAnswerDto, answer).length).toBeGreaterThan(0);
  });
});
