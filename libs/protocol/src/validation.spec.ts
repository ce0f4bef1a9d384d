import {
  AppCommandRunParamsDto,
  EmptyParamsDto,
  FieldProblem,
  KeysListAnswerDto,
  KeysPutDto,
  MAX_LIST_ITEMS,
  ProtocolErrorDto,
  ReportAppsDto,
  SchedulerStartParamsDto,
  SchedulerStopParamsDto,
  describeProblems,
  isPlainObject,
  validatePayload,
} from '@mosaic/protocol';

const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const AT = '2026-11-25T10:00:00.000Z';

function startParams(): Record<string, any> {
  return {
    instance: INSTANCE,
    application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
    compose: 'services: {}\n',
    links: { default: { domain: 'brave-otter.example.net', token: 'secret' } },
    variables: { ADMIN_EMAIL: 'me@example.net' },
    failover: false,
  };
}

function refusal(result: ReturnType<typeof validatePayload>): FieldProblem[] {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return result.details;
}

describe('validatePayload: the input must be a JSON object', () => {
  class Thing {
    a = 1;
  }
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', '{"instance":"x"}'],
    ['a boolean', true],
    ['an empty array', []],
    ['an array holding a valid payload', [startParams()]],
    ['a Date', new Date()],
    ['a class instance', new Thing()],
    ['a Map', new Map([['instance', INSTANCE]])],
  ])('refuses %s', (_label, input) => {
    expect(validatePayload(SchedulerStartParamsDto, input)).toEqual({
      ok: false,
      details: [{ field: '(payload)', problems: ['must be a JSON object'] }],
    });
  });

  it('names the given path when the payload is not an object', () => {
    expect(validatePayload(SchedulerStartParamsDto, 'x', 'params')).toEqual({
      ok: false,
      details: [{ field: 'params', problems: ['must be a JSON object'] }],
    });
  });

  it('accepts an object without a prototype', () => {
    const input = Object.assign(Object.create(null), { instance: INSTANCE });
    expect(validatePayload(SchedulerStopParamsDto, input).ok).toBe(true);
  });

  it('returns a DTO instance, not the input object itself', () => {
    const input = { instance: INSTANCE, replicate: true };
    const result = validatePayload(SchedulerStopParamsDto, input);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toBeInstanceOf(SchedulerStopParamsDto);
    expect(result.value).not.toBe(input);
    expect(result.value).toEqual(input);
  });
});

describe('isPlainObject', () => {
  it.each([
    ['{}', {}, true],
    ['a parsed JSON object', JSON.parse('{"a":1}'), true],
    ['Object.create(null)', Object.create(null), true],
    ['null', null, false],
    ['an array', [], false],
    ['a string', 'x', false],
    ['a Date', new Date(), false],
    ['an object with a custom prototype', Object.create({ inherited: true }), false],
  ])('%s → %s', (_label, value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});

describe('validatePayload: keys named like Object.prototype members are refused, not dropped', () => {
  // class-transformer skipped such keys (toString, valueOf, …) while copying a payload, so they
  // were silently dropped instead of refused as unknown fields: found by the trust-boundary fuzz.
  const MEMBERS = [
    'toString',
    'valueOf',
    'hasOwnProperty',
    'isPrototypeOf',
    'propertyIsEnumerable',
    'toLocaleString',
    '__defineGetter__',
    '__lookupSetter__',
  ];

  it.each(MEMBERS)('refuses %s in params that take no fields', (key) => {
    expect(refusal(validatePayload(EmptyParamsDto, { [key]: 1 }, 'params'))).toEqual([
      { field: `params.${key}`, problems: [`the key "${key}" is not allowed`] },
    ]);
  });

  it.each(MEMBERS)('refuses %s beside the fields of a payload, in a nested object and as a map key', (key) => {
    const top = { ...startParams(), [key]: 'x' };
    expect(refusal(validatePayload(SchedulerStartParamsDto, top)).map((d) => d.field)).toEqual([key]);
    const nested = startParams();
    nested.application[key] = 'x';
    expect(refusal(validatePayload(SchedulerStartParamsDto, nested)).map((d) => d.field)).toEqual([`application.${key}`]);
    const args = { instance: INSTANCE, command: 'echo', args: { [key]: 'x' } };
    expect(refusal(validatePayload(AppCommandRunParamsDto, args)).map((d) => d.field)).toEqual([`args.${key}`]);
  });

  it('still accepts values that are such names', () => {
    expect(validatePayload(SchedulerStopParamsDto, { instance: INSTANCE }).ok).toBe(true);
    expect(validatePayload(AppCommandRunParamsDto, { instance: INSTANCE, command: 'echo', args: { text: 'toString' } }).ok).toBe(true);
  });
});

describe('validatePayload: prototype keys are refused and pollute nothing', () => {
  afterEach(() => {
    // Whatever a case tried, Object.prototype must be untouched.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  /** Builds the payload as text so that `__proto__` is an own key, as it is off the wire. */
  const startJson = (patch: (json: string) => string) => JSON.parse(patch(JSON.stringify(startParams())));

  it.each([
    ['__proto__ at the top level', '{"instance":', '{"__proto__":{"polluted":true},"instance":', '__proto__'],
    ['constructor at the top level', '{"instance":', '{"constructor":{"prototype":{"polluted":true}},"instance":', 'constructor'],
    ['prototype at the top level', '{"instance":', '{"prototype":{"polluted":true},"instance":', 'prototype'],
    ['__proto__ inside application', '"application":{', '"application":{"__proto__":{"polluted":true},', 'application.__proto__'],
    ['constructor inside application', '"application":{', '"application":{"constructor":{"polluted":true},', 'application.constructor'],
    ['__proto__ as a variable name', '"variables":{', '"variables":{"__proto__":"x",', 'variables.__proto__'],
    ['__proto__ as a link name', '"links":{', '"links":{"__proto__":{"polluted":true},', 'links.__proto__'],
    ['__proto__ inside a link', '"default":{', '"default":{"__proto__":{"polluted":true},', 'links.default.__proto__'],
    ['prototype inside a link', '"default":{', '"default":{"prototype":{"polluted":true},', 'links.default.prototype'],
  ])('refuses %s', (_label, find, replace, field) => {
    const input = startJson((json) => {
      if (!json.includes(find)) throw new Error(`fixture does not contain ${find}`);
      return json.replace(find, replace);
    });
    const details = refusal(validatePayload(SchedulerStartParamsDto, input));
    expect(details).toEqual([{ field, problems: [`the key "${field.split('.').pop()}" is not allowed`] }]);
  });

  it('refuses __proto__ inside an array element, naming its index', () => {
    const input = JSON.parse(
      `{"at":"${AT}","apps":[{"instance":"${INSTANCE}","application":{"appstore":"a","name":"n","version":"1"},` +
        `"state":"running","containers":[{"service":"app","containerId":"c","state":"running","__proto__":{"polluted":true}}]}]}`,
    );
    expect(refusal(validatePayload(ReportAppsDto, input))).toEqual([
      { field: 'apps[0].containers[0].__proto__', problems: ['the key "__proto__" is not allowed'] },
    ]);
  });

  it('refuses __proto__ deep inside free-form error details', () => {
    const input = JSON.parse('{"code":"X","message":"m","details":{"a":[{"b":{"__proto__":{"polluted":true}}}]}}');
    expect(refusal(validatePayload(ProtocolErrorDto, input))).toEqual([
      { field: 'details.a[0].b.__proto__', problems: ['the key "__proto__" is not allowed'] },
    ]);
  });

  it('reports every prototype key, not only the first', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"constructor":1,"instance":"x","application":{"prototype":{}}}');
    expect(refusal(validatePayload(SchedulerStartParamsDto, input)).map((d) => d.field)).toEqual([
      '__proto__',
      'constructor',
      'application.prototype',
    ]);
  });

  it('accepts such words as values, where they are harmless', () => {
    const params = startParams();
    params.variables = { NAME: '__proto__', OTHER: 'constructor' };
    expect(validatePayload(SchedulerStartParamsDto, params).ok).toBe(true);
  });
});

describe('validatePayload: nesting depth', () => {
  const nest = (levels: number) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };

  it('refuses a payload nested deeper than 32 levels', () => {
    const details = refusal(validatePayload(ProtocolErrorDto, { code: 'X', message: 'm', details: nest(40) }));
    expect(details).toHaveLength(1);
    expect(details[0].field).toMatch(/^details(\.a)+$/);
    expect(details[0].problems).toEqual(['nests deeper than 32 levels']);
  });

  it('accepts free-form details nested within the limit', () => {
    expect(validatePayload(ProtocolErrorDto, { code: 'X', message: 'm', details: nest(20) }).ok).toBe(true);
  });
});

describe('validatePayload: long lists', () => {
  it('refuses a list of more than MAX_LIST_ITEMS before any check runs (ArrayUnique would compare each item with every other: minutes for a million)', () => {
    const many = Array.from({ length: 1_000_000 }, (_, i) => i);
    const details = refusal(validatePayload(KeysPutDto, { instance: '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', keys: many }));
    expect(details).toEqual([{ field: 'keys', problems: [`holds 1000000 items, more than ${MAX_LIST_ITEMS}`] }]);
    const answer = refusal(validatePayload(KeysListAnswerDto, { ok: true, instances: many.map(String) }));
    expect(answer).toEqual([{ field: 'instances', problems: [`holds 1000000 items, more than ${MAX_LIST_ITEMS}`] }]);
  });

  it('checks a list of MAX_LIST_ITEMS as usual', () => {
    const details = refusal(validatePayload(KeysListAnswerDto, { ok: true, instances: Array.from({ length: MAX_LIST_ITEMS }, (_, i) => String(i)) }));
    expect(details.map((d) => d.field)).toContain('instances');
    expect(JSON.stringify(details)).not.toContain(`more than ${MAX_LIST_ITEMS}`);
    expect(details.find((d) => d.field === 'instances')!.problems).toContain('instances must contain no more than 1000 elements');
  });
});

describe('validatePayload: details', () => {
  it('names a nested field with a dotted path', () => {
    const params = startParams();
    params.application.name = 'Not Valid';
    expect(refusal(validatePayload(SchedulerStartParamsDto, params))).toEqual([
      { field: 'application.name', problems: ['name must match ^[a-z0-9][a-z0-9-]{0,62}$'] },
    ]);
  });

  it('names array elements by index', () => {
    const input = {
      at: AT,
      apps: [
        { instance: INSTANCE, application: { appstore: 'a', name: 'n', version: '1' }, state: 'running', containers: [] },
        {
          instance: INSTANCE,
          application: { appstore: 'a', name: 'n', version: '1' },
          state: 'running',
          containers: [
            { service: 'app', containerId: 'c1', state: 'running' },
            { service: 'db', containerId: 'c2', state: 'up' },
          ],
        },
      ],
    };
    expect(refusal(validatePayload(ReportAppsDto, input)).map((d) => d.field)).toEqual(['apps[1].containers[1].state']);
  });

  it('prefixes every field with the given path', () => {
    const params = startParams();
    params.application.name = '';
    params.extra = 1;
    const fields = refusal(validatePayload(SchedulerStartParamsDto, params, 'params')).map((d) => d.field);
    expect(fields.sort()).toEqual(['params.application.name', 'params.extra']);
  });

  it('reports every bad field at once, in one answer', () => {
    const params = startParams();
    params.instance = 'NOT-A-UUID';
    params.application.name = '-bad';
    params.application.version = 'a b';
    params.compose = 'x'.repeat(256 * 1024 + 1);
    params.links.default.domain = 'bad_domain';
    params.variables = { APP_INSTANCE: 'x' };
    params.failover = 'no';
    params.unknown = true;
    const details = refusal(validatePayload(SchedulerStartParamsDto, params));
    expect(details.map((d) => d.field).sort()).toEqual(
      ['instance', 'application.name', 'application.version', 'compose', 'links', 'variables', 'failover', 'unknown'].sort(),
    );
    for (const detail of details) expect(detail.problems.length).toBeGreaterThan(0);
  });

  it('reports every problem of one field', () => {
    const params = startParams();
    params.compose = 42; // neither a string, nor of a measurable size, nor free of NUL
    const details = refusal(validatePayload(SchedulerStartParamsDto, params));
    expect(details).toHaveLength(1);
    expect(details[0].field).toBe('compose');
    expect(details[0].problems).toEqual(
      expect.arrayContaining(['compose must be a string', 'compose must be at most 262144 bytes of UTF-8', 'compose must not contain NUL']),
    );
  });

  it('never echoes the refused value back', () => {
    const params = startParams();
    params.links.default.token = 'super-secret-token\n';
    params.compose = 'x'.repeat(300 * 1024);
    const details = refusal(validatePayload(SchedulerStartParamsDto, params));
    const text = JSON.stringify(details);
    expect(text).not.toContain('super-secret-token');
    expect(text.length).toBeLessThan(2000);
  });
});

describe('describeProblems', () => {
  it('puts every field and every problem on one line', () => {
    expect(
      describeProblems([
        { field: 'application.name', problems: ['must match a', 'must be a string'] },
        { field: 'failover', problems: ['must be a boolean'] },
      ]),
    ).toBe('application.name: must match a; must be a string, failover: must be a boolean');
  });

  it('describes nothing as an empty string', () => {
    expect(describeProblems([])).toBe('');
  });
});
