import { DEFAULT_ARG_PATTERN, appCommandArgProblems, parseAppCommands } from './app-commands';

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
      /args\.x\.pattern is not a valid regular expression/,
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
});
