import { DEFAULT_ARG_PATTERN, appCommandArgProblems, declaredCommand, parseAppCommands } from './app-commands';

describe('parseAppCommands', () => {
  it('reads commands, their patterns (with Compose $$ read as $) and the default pattern and timeout', () => {
    const parsed = parseAppCommands(
      {
        commands: {
          'add-note': {
            service: 'web',
            argv: ['/srv/bin/add-note', '{{text}}'],
            args: { text: { pattern: '^[a-z ]{1,9}$$' } },
            timeoutSeconds: 5,
          },
          greet: { service: 'web', argv: ['echo', '{{name}}'] },
        },
      },
      ['web'],
    );
    expect(parsed).toEqual({
      problems: [],
      commands: {
        'add-note': { service: 'web', argv: ['/srv/bin/add-note', '{{text}}'], args: { text: '^[a-z ]{1,9}$' }, timeoutSeconds: 5 },
        greet: { service: 'web', argv: ['echo', '{{name}}'], args: { name: DEFAULT_ARG_PATTERN }, timeoutSeconds: 60 },
      },
    });
  });

  it.each(['constructor', 'toString', 'valueOf', '__proto__'])(
    'refuses a placeholder named %s, as the device does: no Hive may send that key',
    (name) => {
      const parsed = parseAppCommands({ commands: { greet: { service: 'web', argv: ['echo', `{{${name}}}`] } } }, ['web']);
      expect(parsed).toEqual({
        problems: [`x-mosaic.commands.greet: placeholder "${name}" is a key payloads may not carry; rename it`],
        commands: {},
      });
    },
  );

  it('has no commands when there is no x-mosaic', () => {
    expect(parseAppCommands(undefined, ['web'])).toEqual({ commands: {}, problems: [] });
  });

  it.each([
    ['a placeholder as argv[0]', { service: 'web', argv: ['{{program}}'] }, /argv\[0\] may not be a placeholder/],
    ['busybox as argv[0]', { service: 'web', argv: ['/bin/busybox', 'sh'] }, /is a shell/],
    ['an empty argv', { service: 'web', argv: [] }, /argv must be a list of 1 to 64 strings/],
    ['a timeout of zero', { service: 'web', argv: ['true'], timeoutSeconds: 0 }, /timeoutSeconds must be a whole number/],
    ['an unknown field', { service: 'web', argv: ['true'], shell: true }, /unknown fields shell/],
    [
      'a bad pattern',
      { service: 'web', argv: ['echo', '{{x}}'], args: { x: { pattern: '(' } } },
      /args\.x\.pattern is not a regular expression RE2 accepts/,
    ],
    [
      'a pattern with a backreference',
      { service: 'web', argv: ['echo', '{{x}}'], args: { x: { pattern: '^(a+)\\1$' } } },
      /args\.x\.pattern is not a regular expression RE2 accepts/,
    ],
    [
      'a pattern with a lookahead',
      { service: 'web', argv: ['echo', '{{x}}'], args: { x: { pattern: '^(?!-)[a-z-]+$' } } },
      /args\.x\.pattern is not a regular expression RE2 accepts/,
    ],
    [
      'a pattern too costly to match',
      { service: 'web', argv: ['echo', '{{x}}'], args: { x: { pattern: '^.{0,1000}.{0,1000}.{0,1000}$' } } },
      /args\.x\.pattern is too costly to match/,
    ],
  ])('refuses %s, and then keeps no command at all', (_label, spec, expected) => {
    const parsed = parseAppCommands({ commands: { ok: { service: 'web', argv: ['true'] }, bad: spec } }, ['web']);
    expect(parsed.commands).toEqual({});
    expect(parsed.problems).toEqual([expect.stringMatching(expected)]);
    expect(parsed.problems[0]).toMatch(/^x-mosaic\.commands\.bad: /);
  });
});

describe('appCommandArgProblems', () => {
  const spec = {
    service: 'web',
    argv: ['add', '{{text}}', '{{tag}}'],
    args: { text: '[a-z ]{1,10}', tag: '^[a-z]+$' },
    timeoutSeconds: 60,
  };

  it('accepts exactly the placeholders, each matching as a whole', () => {
    expect(appCommandArgProblems(spec, { text: 'a note', tag: 'home' })).toEqual([]);
  });

  it('names each missing, extra or non-matching argument', () => {
    expect(appCommandArgProblems(spec, { text: 'a note; rm -rf /', extra: 'x' })).toEqual([
      { field: 'args.text', problems: ['must match [a-z ]{1,10}'] },
      { field: 'args.tag', problems: ['is required'] },
      { field: 'args.extra', problems: ['is not an argument of this command'] },
    ]);
  });

  it('refuses a value that starts with "-" unless the pattern begins with one', () => {
    const byDefault = { ...spec, argv: ['occ', '{{user}}', '{{offset}}'], args: { user: DEFAULT_ARG_PATTERN, offset: '^-?[0-9]+$' } };
    expect(appCommandArgProblems(byDefault, { user: '-rf', offset: '-5' })).toEqual([
      { field: 'args.user', problems: [expect.stringContaining('may not start with "-"')] },
    ]);
  });

  it('refuses a value longer than 4096 characters', () => {
    const free = { ...spec, argv: ['echo', '{{v}}'], args: { v: '^[^\\n]*$' } };
    expect(appCommandArgProblems(free, { v: 'x'.repeat(4097) })).toEqual([{ field: 'args.v', problems: ['must be at most 4096 characters'] }]);
  });

  it('takes no names of Object.prototype for arguments', () => {
    const none = { ...spec, argv: ['ls'], args: {} };
    expect(appCommandArgProblems(none, { constructor: 'x' } as Record<string, string>)).toEqual([
      { field: 'args.constructor', problems: ['is not an argument of this command'] },
    ]);
  });
});

describe('declaredCommand', () => {
  const { commands } = parseAppCommands({ commands: { greet: { service: 'web', argv: ['echo', 'hi'] } } }, ['web']);

  it('finds a declared command, and none named like a member of Object.prototype', () => {
    expect(declaredCommand(commands, 'greet')).toEqual({ service: 'web', argv: ['echo', 'hi'], args: {}, timeoutSeconds: 60 });
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(declaredCommand(commands, name)).toBeUndefined();
  });
});
