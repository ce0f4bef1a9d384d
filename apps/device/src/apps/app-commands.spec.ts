import { AppCommandSpec, DEFAULT_ARG_PATTERN, bindAppCommand, declaredCommand, parseAppCommands } from './app-commands';

const SERVICES = ['app', 'db'];

/** `x-mosaic` with one command `cmd`, as `docker compose config --format json` prints it. */
function extension(command: Record<string, unknown>) {
  return { commands: { cmd: command } };
}

function parse(command: Record<string, unknown>) {
  return parseAppCommands(extension(command), SERVICES);
}

function refusal(command: Record<string, unknown>): string[] {
  const { commands, violations } = parse(command);
  expect(commands).toEqual({});
  return violations.map((v) => v.message);
}

describe('parseAppCommands (§2.3 declarations)', () => {
  it('reads a declared command with its patterns and timeout', () => {
    const declared = {
      commands: {
        'reset-password': {
          service: 'app',
          argv: ['occ', 'user:resetpassword', '{{user}}'],
          args: { user: { pattern: '^[a-z0-9_.-]{1,32}$' } },
          timeoutSeconds: 120,
        },
        'list-users': { service: 'db', argv: ['psql', '-c', 'select 1'] },
      },
    };
    expect(parseAppCommands(declared, SERVICES)).toEqual({
      commands: {
        'reset-password': { service: 'app', argv: ['occ', 'user:resetpassword', '{{user}}'], args: { user: '^[a-z0-9_.-]{1,32}$' }, timeoutSeconds: 120 },
        'list-users': { service: 'db', argv: ['psql', '-c', 'select 1'], args: {}, timeoutSeconds: 60 },
      },
      violations: [],
    });
  });

  it(`applies ${DEFAULT_ARG_PATTERN} to a placeholder args does not declare`, () => {
    const { commands } = parse({ service: 'app', argv: ['echo', '{{text}}', '{{more}}'], args: { more: { pattern: '^x$' } } });
    expect(commands.cmd.args).toEqual({ text: DEFAULT_ARG_PATTERN, more: '^x$' });
  });

  it('declares nothing when there is no x-mosaic or no commands', () => {
    expect(parseAppCommands(undefined, SERVICES)).toEqual({ commands: {}, violations: [] });
    expect(parseAppCommands({}, SERVICES)).toEqual({ commands: {}, violations: [] });
  });

  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'prototype'])('refuses a placeholder named %s, a key no Hive may send as an argument', (name) => {
    expect(refusal({ service: 'app', argv: ['echo', `{{${name}}}`] })).toEqual([`command "cmd": placeholder "${name}" is a key payloads may not carry; rename it`]);
  });

  it('refuses commands that are not a map', () => {
    expect(parseAppCommands({ commands: [{ service: 'app', argv: ['ls'] }] }, SERVICES).violations).toEqual([
      { rule: 'x-mosaic', message: expect.stringContaining('must be a map') },
    ]);
  });

  it.each([
    'sh',
    '/bin/sh',
    'bash',
    '/usr/bin/bash',
    'dash',
    'ash',
    'zsh',
    '/usr/bin/env',
    'env',
    'busybox',
    '/bin/busybox',
    'sudo',
    'su',
    'xargs',
    'nsenter',
    'chroot',
  ])('refuses the shell %s as argv[0]', (shell) => {
    expect(refusal({ service: 'app', argv: [shell, '-c', 'ls'] })).toEqual([expect.stringContaining('is a shell')]);
  });

  it.each([
    [['nice', 'sh', '-c', '{{script}}']],
    [['gosu', 'www-data', '/bin/bash', '-c', 'ls']],
    [['timeout', '10', 'busybox', 'sh']],
  ])('refuses a shell behind a launcher: %j', (argv) => {
    expect(refusal({ service: 'app', argv })).toEqual([expect.stringContaining('runs a shell through another program')]);
  });

  it('accepts a program whose name merely contains a shell name', () => {
    expect(parse({ service: 'app', argv: ['/usr/local/bin/bashful', 'x'] }).violations).toEqual([]);
  });

  it('refuses a placeholder as argv[0]', () => {
    expect(refusal({ service: 'app', argv: ['{{program}}', 'x'] })).toEqual([expect.stringContaining('argv[0] may not be a placeholder')]);
  });

  it.each(['--user={{u}}', '{{u}}x', 'x{{u}}', '{{u}}{{v}}', '{{ u }}', '{{1u}}'])('refuses the mixed placeholder text %s', (element) => {
    expect(refusal({ service: 'app', argv: ['occ', element] })).toEqual([expect.stringContaining('mixes a placeholder with text')]);
  });

  it('refuses an unknown service', () => {
    expect(refusal({ service: 'web', argv: ['ls'] })).toEqual([expect.stringContaining("service must name one of the app's services (app, db)")]);
  });

  it('refuses a missing service', () => {
    expect(refusal({ argv: ['ls'] })).toEqual([expect.stringContaining('service must name')]);
  });

  it('refuses declared args without a placeholder', () => {
    expect(refusal({ service: 'app', argv: ['occ', '{{user}}'], args: { user: { pattern: '^a$' }, group: { pattern: '^b$' } } })).toEqual([
      expect.stringContaining('args group have no placeholder in argv'),
    ]);
  });

  it.each([
    ['an invalid regular expression', '([a-z]+', 'not a regular expression RE2 accepts'],
    ['a pattern that is not a string', 42, 'must be a string'],
    ['an empty pattern', '', 'must be 1 to 512 characters'],
    ['a pattern longer than 512 characters', 'a'.repeat(513), 'must be 1 to 512 characters'],
  ])('refuses %s', (_label, pattern, message) => {
    expect(refusal({ service: 'app', argv: ['occ', '{{user}}'], args: { user: { pattern } } })).toEqual([expect.stringContaining(message)]);
  });

  it.each([
    ['a backreference', '^(\\w+)-\\1$', 'not a regular expression RE2 accepts'],
    ['a lookahead', '^(?=[a-z])[a-z0-9]+$', 'not a regular expression RE2 accepts'],
    ['a lookbehind', '^[a-z]+(?<!x)$', 'not a regular expression RE2 accepts'],
    ['a pattern too costly to match', '^.{0,1000}.{0,1000}.{0,1000}$', 'too costly to match'],
  ])('refuses %s, which needs backtracking or too much work', (_label, pattern, message) => {
    expect(refusal({ service: 'app', argv: ['occ', '{{user}}'], args: { user: { pattern } } })).toEqual([expect.stringContaining(message)]);
  });

  it.each([0, -1, 3601, 1.5, '60', 'x'])('refuses timeoutSeconds %p', (timeoutSeconds) => {
    expect(refusal({ service: 'app', argv: ['ls'], timeoutSeconds })).toEqual([expect.stringContaining('timeoutSeconds must be a whole number from 1 to 3600')]);
  });

  it.each([1, 3600])('accepts timeoutSeconds %p', (timeoutSeconds) => {
    expect(parse({ service: 'app', argv: ['ls'], timeoutSeconds }).commands.cmd.timeoutSeconds).toBe(timeoutSeconds);
  });

  it.each([
    ['an empty argv', []],
    ['an argv that is a string', 'ls -l'],
    ['an argv with a number', ['sleep', 5]],
    ['an argv of 65 elements', Array.from({ length: 65 }, () => 'x')],
  ])('refuses %s', (_label, argv) => {
    expect(refusal({ service: 'app', argv })).toEqual([expect.stringContaining('argv must be a non-empty list')]);
  });

  it('refuses unknown fields, such as a shell switch', () => {
    expect(refusal({ service: 'app', argv: ['ls'], shell: true })).toEqual([expect.stringContaining('unknown fields shell')]);
  });

  it('refuses a command name outside the pattern', () => {
    expect(parseAppCommands({ commands: { 'Reset Password': { service: 'app', argv: ['ls'] } } }, SERVICES).violations).toEqual([
      { rule: 'x-mosaic', message: expect.stringContaining('"Reset Password"') },
    ]);
  });

  it('refuses the whole declaration when one command is bad, and lists every problem', () => {
    const declared = {
      commands: {
        good: { service: 'app', argv: ['ls'] },
        bad: { service: 'web', argv: ['/bin/sh', '--opt={{x}}'], timeoutSeconds: 0 },
      },
    };
    const { commands, violations } = parseAppCommands(declared, SERVICES);
    expect(commands).toEqual({});
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringContaining('service must name'),
      expect.stringContaining('is a shell'),
      expect.stringContaining('mixes a placeholder'),
      expect.stringContaining('timeoutSeconds'),
    ]);
    expect(violations.every((v) => v.rule === 'x-mosaic' && v.message.startsWith('command "bad": '))).toBe(true);
  });
});

describe('bindAppCommand (§2.3 runs)', () => {
  const spec = (argv: string[], args: Record<string, string>): AppCommandSpec => ({ service: 'app', argv, args, timeoutSeconds: 60 });
  const resetPassword = spec(['occ', 'user:resetpassword', '{{user}}'], { user: '^[a-z0-9_.-]{1,32}$' });

  it('puts each value in its placeholder’s place', () => {
    expect(bindAppCommand(resetPassword, { user: 'alice' })).toEqual({ argv: ['occ', 'user:resetpassword', 'alice'] });
  });

  it('refuses a missing argument', () => {
    expect(bindAppCommand(resetPassword, {})).toEqual({ problems: [{ field: 'params.args.user', problems: ['is required'] }] });
  });

  it('refuses an extra argument', () => {
    expect(bindAppCommand(resetPassword, { user: 'alice', admin: 'yes' })).toEqual({
      problems: [{ field: 'params.args.admin', problems: ['is not an argument of this command'] }],
    });
  });

  it('refuses arguments for a command that has none', () => {
    expect(bindAppCommand(spec(['ls'], {}), { path: '/' })).toEqual({ problems: [{ field: 'params.args.path', problems: ['is not an argument of this command'] }] });
  });

  it('does not take names of Object.prototype for arguments', () => {
    expect(bindAppCommand(spec(['ls'], {}), { toString: 'x' })).toEqual({
      problems: [{ field: 'params.args.toString', problems: ['is not an argument of this command'] }],
    });
    expect(bindAppCommand(spec(['echo', '{{constructor}}'], { constructor: '.*' }), {})).toEqual({
      problems: [{ field: 'params.args.constructor', problems: ['is required'] }],
    });
  });

  it.each([
    ['[a-z]+', 'abc;rm'],
    ['[a-z]+', ';abc'],
    ['abc|xyz', 'abcxyz'],
    ['abc|xyz', 'xyz;id'],
    ['^[a-z]+', 'abc def'],
    ['[a-z]+$', 'x abc'],
    ['^[a-z]+$', 'abc\n'],
  ])('matches the unanchored or half-anchored pattern %p against the whole value %p', (pattern, value) => {
    expect(bindAppCommand(spec(['echo', '{{v}}'], { v: pattern }), { v: value })).toEqual({
      problems: [{ field: 'params.args.v', problems: [`must match ${pattern}`] }],
    });
  });

  it.each([
    ['[a-z]+', 'abc'],
    ['abc|xyz', 'xyz'],
  ])('accepts a value that the unanchored pattern %p matches whole', (pattern, value) => {
    expect(bindAppCommand(spec(['echo', '{{v}}'], { v: pattern }), { v: value })).toEqual({ argv: ['echo', value] });
  });

  const byDefault = spec(['occ', 'user:info', '{{user}}'], { user: DEFAULT_ARG_PATTERN });

  it.each(['; rm -rf /', '$(id)', '`id`', 'a\nb', 'a b', '{{x}}', '', 'x'.repeat(129), 'ünïcode', '../../etc/passwd', 'a|b', 'a&&b'])(
    'refuses the hostile value %p with the default pattern',
    (value) => {
      expect(bindAppCommand(byDefault, { user: value })).toEqual({ problems: [{ field: 'params.args.user', problems: [`must match ${DEFAULT_ARG_PATTERN}`] }] });
    },
  );

  it.each(['alice', 'alice@example.net', 'v1.2.3', 'a_b-c', 'x'.repeat(128)])('accepts the value %p with the default pattern', (value) => {
    expect(bindAppCommand(byDefault, { user: value })).toEqual({ argv: ['occ', 'user:info', value] });
  });

  it('passes an accepted value as exactly one argv element, however it looks', () => {
    const free = spec(['wp', 'option', 'update', '{{name}}', '{{value}}', '--format=json'], { name: '^[a-z_]+$', value: '^[^\\n]*$' });
    const value = 'hello world; rm -rf / $(id) "quoted" {{name}}';
    const bound = bindAppCommand(free, { name: 'blogname', value });
    expect(bound).toEqual({ argv: ['wp', 'option', 'update', 'blogname', value, '--format=json'] });
  });

  it('fills a placeholder used twice with the same value', () => {
    expect(bindAppCommand(spec(['cp', '{{f}}', '{{f}}', 'x'], { f: DEFAULT_ARG_PATTERN }), { f: 'a.txt' })).toEqual({
      argv: ['cp', 'a.txt', 'a.txt', 'x'],
    });
  });

  it('reports every problem at once', () => {
    const two = spec(['occ', '{{user}}', '{{group}}'], { user: DEFAULT_ARG_PATTERN, group: DEFAULT_ARG_PATTERN });
    expect(bindAppCommand(two, { user: '$(id)', extra: 'x' })).toEqual({
      problems: [
        { field: 'params.args.user', problems: [`must match ${DEFAULT_ARG_PATTERN}`] },
        { field: 'params.args.group', problems: ['is required'] },
        { field: 'params.args.extra', problems: ['is not an argument of this command'] },
      ],
    });
  });

  it.each(['-rf', '--help', '-', '--output=/etc/passwd'])('refuses the option-like value %p with the default pattern, which allows "-" inside', (value) => {
    expect(bindAppCommand(byDefault, { user: value })).toEqual({
      problems: [{ field: 'params.args.user', problems: [expect.stringContaining('may not start with "-"')] }],
    });
  });

  it.each([
    ['^[a-z-]+$', '-x'],
    ['[-a-z]+', '-x'],
    ['(-x|y)', '-x'],
  ])('refuses a leading "-" when the pattern %p has one only further in (value %p)', (pattern, value) => {
    expect(bindAppCommand(spec(['echo', '{{v}}'], { v: pattern }), { v: value })).toEqual({
      problems: [{ field: 'params.args.v', problems: [expect.stringContaining('may not start with "-"')] }],
    });
  });

  it.each([
    ['^-?[0-9]+$', '-5'],
    ['-[a-z]$', '-x'],
    ['^\\-\\-[a-z]+$', '--all'],
  ])('accepts a leading "-" when the pattern %p begins with one: %p', (pattern, value) => {
    expect(bindAppCommand(spec(['echo', '{{v}}'], { v: pattern }), { v: value })).toEqual({ argv: ['echo', value] });
  });

  it('refuses a value longer than 4096 characters, whatever its pattern allows', () => {
    const free = spec(['echo', '{{v}}'], { v: '^[^\\n]*$' });
    expect(bindAppCommand(free, { v: 'x'.repeat(4096) })).toEqual({ argv: ['echo', 'x'.repeat(4096)] });
    expect(bindAppCommand(free, { v: 'x'.repeat(4097) })).toEqual({
      problems: [{ field: 'params.args.v', problems: ['must be at most 4096 characters'] }],
    });
  });

  it('matches a pattern that would backtrack catastrophically in linear time', () => {
    const nested = spec(['echo', '{{v}}'], { v: '(a+)+$' });
    const started = process.hrtime.bigint();
    expect(bindAppCommand(nested, { v: `${'a'.repeat(28)}!` })).toEqual({ problems: [{ field: 'params.args.v', problems: ['must match (a+)+$'] }] });
    expect(bindAppCommand(nested, { v: 'a'.repeat(4096) })).toEqual({ argv: ['echo', 'a'.repeat(4096)] });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });

  it('binds what parseAppCommands declared', () => {
    const { commands } = parseAppCommands(extension({ service: 'app', argv: ['occ', '{{user}}'], args: { user: { pattern: '[a-z]+' } } }), SERVICES);
    expect(bindAppCommand(commands.cmd, { user: 'bob' })).toEqual({ argv: ['occ', 'bob'] });
    expect(bindAppCommand(commands.cmd, { user: 'bob;id' })).toHaveProperty('problems');
  });
});

describe('declaredCommand', () => {
  const commands = parseAppCommands(extension({ service: 'app', argv: ['ls'] }), SERVICES).commands;

  it('finds a declared command', () => {
    expect(declaredCommand(commands, 'cmd')).toEqual({ service: 'app', argv: ['ls'], args: {}, timeoutSeconds: 60 });
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])('finds no command named like a member of Object.prototype: %s', (name) => {
    expect(declaredCommand(commands, name)).toBeUndefined();
    // As the device reads them back from the instance's metadata file: a plain object again.
    expect(declaredCommand(JSON.parse(JSON.stringify(commands)) as typeof commands, name)).toBeUndefined();
  });
});
