import { IsBoolean, IsString } from 'class-validator';
import {
  IsAbsentUnless,
  IsOptionalNotNull,
  LinkDto,
  Patterns,
  RESERVED_VARIABLES,
  RESERVED_VARIABLE_PREFIXES,
  charLength,
  isHostName,
  isIsoUtc,
  isReservedVariable,
  nestedDto,
  recordProblems,
  validatePayload,
} from '@mosaic/protocol';

describe('isReservedVariable (§2.1)', () => {
  it('reserves exactly the names of §2.1', () => {
    expect([...RESERVED_VARIABLES].sort()).toEqual(['APP_INSTANCE', 'APP_VOLUME_NAME', 'LINK_VOLUME_NAME']);
    expect([...RESERVED_VARIABLE_PREFIXES].sort()).toEqual(['LINK_DOMAIN_', 'LINK_TOKEN_']);
  });

  it.each(['APP_INSTANCE', 'APP_VOLUME_NAME', 'LINK_VOLUME_NAME', 'LINK_DOMAIN_DEFAULT', 'LINK_TOKEN_DEFAULT', 'LINK_DOMAIN_X', 'LINK_TOKEN_'])(
    '%s is reserved',
    (name) => {
      expect(isReservedVariable(name)).toBe(true);
    },
  );

  it.each(['APP_INSTANCE_ID', 'APP_VOLUME', 'LINK_DOMAIN', 'LINK_TOKENS', 'MY_LINK_DOMAIN_X', 'app_instance', 'ADMIN_EMAIL'])(
    '%s is not reserved',
    (name) => {
      expect(isReservedVariable(name)).toBe(false);
    },
  );
});

describe('isHostName (RFC 1123)', () => {
  it.each([
    ['a', true],
    ['example.net', true],
    ['3com.example', true],
    [`${'a'.repeat(63)}.net`, true],
    [`${'a'.repeat(64)}.net`, false],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, true], // 253
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false], // 254
    ['a-.net', false],
    ['-a.net', false],
    ['a_b.net', false],
    ['', false],
    ['a..b', false],
  ])('%s → %s', (value, expected) => {
    expect(isHostName(value)).toBe(expected);
  });

  it.each([null, undefined, 42, {}, ['example.net']])('refuses the non-string %p', (value) => {
    expect(isHostName(value)).toBe(false);
  });
});

describe('isIsoUtc', () => {
  it.each([
    ['2026-11-25T10:00:00.000Z', true],
    ['2026-11-25T10:00:00Z', true],
    ['2000-02-29T00:00:00Z', true], // divisible by 400: a leap year
    ['1900-02-29T00:00:00Z', false], // divisible by 100 only: not a leap year
    ['2026-02-30T00:00:00Z', false],
    ['2026-11-31T00:00:00Z', false],
    ['2026-11-25T24:00:00Z', false],
    ['2026-11-25T23:59:60Z', false],
    ['2026-11-25T10:00:00+00:00', false],
    ['2026-11-25T10:00:00', false],
  ])('%s → %s', (value, expected) => {
    expect(isIsoUtc(value)).toBe(expected);
  });

  it.each([null, undefined, 0, new Date('2026-11-25T10:00:00Z')])('refuses the non-string %p', (value) => {
    expect(isIsoUtc(value)).toBe(false);
  });
});

describe('charLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 1],
    ['€', 1],
    ['😀', 1],
    ['a😀b', 3],
  ])('%p has %i characters', (value, expected) => {
    expect(charLength(value)).toBe(expected);
  });
});

describe('Patterns', () => {
  it.each([
    ['uuid', Patterns.uuid, '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', '3F1C2A4E-8B7D-4C6A-9E2F-1A2B3C4D5E6F'],
    ['fingerprint', Patterns.fingerprint, 'a'.repeat(40), 'A'.repeat(40)],
    ['variableName', Patterns.variableName, 'A'.repeat(64), 'A'.repeat(65)],
    ['appName', Patterns.appName, 'a'.repeat(63), 'a'.repeat(64)],
    ['appVersion', Patterns.appVersion, 'v'.repeat(64), 'v'.repeat(65)],
    ['printable', Patterns.printable, ' ~', '\x7f'],
  ])('%s accepts its edge and refuses one past it', (_name, pattern, good, bad) => {
    expect(pattern.test(good)).toBe(true);
    expect(pattern.test(bad)).toBe(false);
  });
});

describe('recordProblems', () => {
  const rule = {
    key: /^[A-Z]+$/,
    keyHint: 'must be upper case',
    maxKeys: 2,
    value: (v: unknown) => (typeof v === 'string' ? null : 'must be a string'),
  };

  it('accepts a good map', () => {
    expect(recordProblems({ A: 'x', B: 'y' }, rule)).toEqual([]);
  });

  it('lists every problem: too many keys, bad keys and bad values', () => {
    expect(recordProblems({ a: 'x', B: 1, C: 'z' }, rule)).toEqual([
      'may have at most 2 entries (has 3)',
      'key "a" must be upper case',
      '"B" must be a string',
    ]);
  });

  it.each([null, [], 'A=x', 1])('refuses the non-object %p', (value) => {
    expect(recordProblems(value, rule)).toEqual(['must be a JSON object']);
  });

  it('cuts long keys in its messages', () => {
    const [problem] = recordProblems({ ['a'.repeat(1000)]: 'x' }, rule);
    expect(problem.length).toBeLessThan(120);
  });
});

describe('nestedDto', () => {
  const check = nestedDto(LinkDto);

  it('returns null for a valid value', () => {
    expect(check({ domain: 'example.net', token: 't' }, 'default')).toBeNull();
  });

  it('names every bad field of the nested value', () => {
    const why = check({ domain: 'bad_domain', token: '', extra: 1 }, 'default');
    expect(why).toContain('domain:');
    expect(why).toContain('token:');
    expect(why).toContain('extra:');
  });
});

describe('IsOptionalNotNull and IsAbsentUnless', () => {
  class Sample {
    @IsBoolean()
    ok!: boolean;

    @IsOptionalNotNull()
    @IsString()
    note?: string;

    @IsOptionalNotNull()
    @IsAbsentUnless((o: Sample) => o.ok !== true, 'ok is false')
    @IsString()
    reason?: string;
  }
  const fields = (input: unknown) => {
    const result = validatePayload(Sample, input);
    return result.ok ? [] : result.details.map((d) => d.field);
  };

  it.each([
    ['absent optional fields', { ok: true }, []],
    ['a present optional field', { ok: true, note: 'n' }, []],
    ['null in an optional field', { ok: true, note: null }, ['note']],
    ['a field allowed by its condition', { ok: false, reason: 'r' }, []],
    ['a field its condition forbids', { ok: true, reason: 'r' }, ['reason']],
  ])('%s', (_label, input, expected) => {
    expect(fields(input)).toEqual(expected);
  });

  it('says why a forbidden field is refused', () => {
    const result = validatePayload(Sample, { ok: true, reason: 'r' });
    expect(result).toEqual({ ok: false, details: [{ field: 'reason', problems: ['reason is only allowed when ok is false'] }] });
  });
});
