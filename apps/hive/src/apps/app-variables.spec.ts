import { publicVariables, resolveAppVariables } from './app-variables';
import { VariableSpec } from './catalog-manifest.dto';

const DECLARED: Record<string, VariableSpec> = {
  SITE_TITLE: { description: 'title', default: 'My site', pattern: '[A-Za-z ]{1,20}' },
  ADMIN_EMAIL: { description: 'email', required: true, pattern: '^[^@\\s]+@[^@\\s]+$' },
  ADMIN_TOKEN: { description: 'token', secret: true },
};

describe('resolveAppVariables', () => {
  it('keeps what was given and fills in the defaults; an optional variable without default stays unset', () => {
    expect(resolveAppVariables(DECLARED, { ADMIN_EMAIL: 'me@example.net' })).toEqual({
      ok: true,
      value: { SITE_TITLE: 'My site', ADMIN_EMAIL: 'me@example.net' },
    });
    expect(resolveAppVariables(DECLARED, { ADMIN_EMAIL: 'me@example.net', SITE_TITLE: 'Hello', ADMIN_TOKEN: 's3cret' })).toEqual({
      ok: true,
      value: { SITE_TITLE: 'Hello', ADMIN_EMAIL: 'me@example.net', ADMIN_TOKEN: 's3cret' },
    });
  });

  it('refuses a missing required variable, naming it', () => {
    expect(resolveAppVariables(DECLARED, {})).toEqual({
      ok: false,
      details: [{ field: 'variables.ADMIN_EMAIL', problems: ['is required'] }],
    });
  });

  it('matches patterns against the whole value, anchored or not', () => {
    const result = resolveAppVariables(DECLARED, { ADMIN_EMAIL: 'me@example.net\nX-Injected: 1', SITE_TITLE: 'Hello <b>' });
    expect(result).toEqual({
      ok: false,
      details: [
        { field: 'variables.ADMIN_EMAIL', problems: ['must match ^[^@\\s]+@[^@\\s]+$'] },
        { field: 'variables.SITE_TITLE', problems: ['must match [A-Za-z ]{1,20}'] },
      ],
    });
  });

  it('matches a pattern that would backtrack catastrophically in linear time', () => {
    const nested: Record<string, VariableSpec> = { NAME: { description: 'name', pattern: '^(a+)+$' } };
    const started = process.hrtime.bigint();
    expect(resolveAppVariables(nested, { NAME: `${'a'.repeat(28)}!` })).toEqual({
      ok: false,
      details: [{ field: 'variables.NAME', problems: ['must match ^(a+)+$'] }],
    });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });

  it('takes no names of Object.prototype for variables', () => {
    expect(resolveAppVariables(DECLARED, { ADMIN_EMAIL: 'a@b', constructor: 'x' })).toEqual({
      ok: false,
      details: [{ field: 'variables.constructor', problems: [expect.stringContaining('is not a variable of this app')] }],
    });
  });

  it('refuses unknown and reserved names, saying which', () => {
    const result = resolveAppVariables(DECLARED, { ADMIN_EMAIL: 'a@b', COLOUR: 'red', APP_INSTANCE: 'x', LINK_TOKEN_DEFAULT: 'y' });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.details).toEqual([
      {
        field: 'variables.COLOUR',
        problems: [expect.stringContaining('is not a variable of this app (it has: SITE_TITLE, ADMIN_EMAIL, ADMIN_TOKEN)')],
      },
      { field: 'variables.APP_INSTANCE', problems: ['is reserved: the device sets it'] },
      { field: 'variables.LINK_TOKEN_DEFAULT', problems: ['is reserved: the device sets it'] },
    ]);
  });
});

describe('publicVariables', () => {
  it('leaves out the secret ones', () => {
    expect(publicVariables({ A: '1', SECRET: '2', B: '3' }, ['SECRET', 'NOT_SET'])).toEqual({ A: '1', B: '3' });
  });
});
