import {
  AppCommandRunParamsDto,
  ApplicationDto,
  EmptyParamsDto,
  FieldProblem,
  LIMITS,
  SchedulerStartParamsDto,
  SchedulerStopParamsDto,
  UpgradeParamsDto,
  validatePayload,
} from '@mosaic/protocol';

type Dto = new (...args: any[]) => object;

/** Every problem of a payload; [] when it is accepted (so a failing "accepts" test shows why). */
function problems(dto: Dto, input: unknown): FieldProblem[] {
  const result = validatePayload(dto, input);
  return result.ok ? [] : result.details;
}
const badFields = (dto: Dto, input: unknown) => problems(dto, input).map((d) => d.field);
const problemText = (dto: Dto, input: unknown) =>
  problems(dto, input)
    .flatMap((d) => d.problems)
    .join(' | ');

const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const KIB = 1024;

/** The example of docs/protocol.md §2.1, with a real compose template. */
function start(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instance: INSTANCE,
    application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
    compose: 'services:\n  app:\n    image: ghcr.io/requarks/wiki:2\n',
    links: { default: { domain: 'brave-otter.example.net', token: 's3cr3t-t0ken' } },
    variables: { ADMIN_EMAIL: 'me@example.net' },
    failover: false,
    ...overrides,
  };
}
const withApp = (app: Record<string, unknown>) =>
  start({ application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest', ...app } });
const withLink = (link: Record<string, unknown>) =>
  start({ links: { default: { domain: 'brave-otter.example.net', token: 's3cr3t-t0ken', ...link } } });
const withVariables = (variables: unknown) => start({ variables });

/** A host name of exactly `total` characters made of labels of at most 63. */
function hostOfLength(total: number): string {
  const labels: string[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(63, left);
    labels.push('a'.repeat(size));
    left -= size + 1; // the dot before the next label
  }
  const host = labels.join('.');
  if (host.length !== total) throw new Error(`hostOfLength(${total}) built ${host.length}`);
  return host;
}

describe('SchedulerStartParamsDto (§2.1)', () => {
  it('accepts the example of docs/protocol.md and returns typed DTO instances', () => {
    const result = validatePayload(SchedulerStartParamsDto, start());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toBeInstanceOf(SchedulerStartParamsDto);
    expect(result.value.application).toBeInstanceOf(ApplicationDto);
    expect(result.value).toEqual(start());
  });

  it('accepts failover: true', () => {
    expect(problems(SchedulerStartParamsDto, start({ failover: true }))).toEqual([]);
  });

  describe('instance', () => {
    it.each([
      ['a v4 uuid', '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f'],
      ['a v1 uuid', 'c232ab00-9414-11ec-b3c8-9f6bdeced846'],
      ['a v7 uuid', '01890a5d-ac96-774b-bcce-b302099a8057'],
    ])('accepts %s', (_label, instance) => {
      expect(problems(SchedulerStartParamsDto, start({ instance }))).toEqual([]);
    });

    it.each([
      ['upper case', '3F1C2A4E-8B7D-4C6A-9E2F-1A2B3C4D5E6F'],
      ['upper case in the first group only', '3F1C2A4E-8b7d-4c6a-9e2f-1a2b3c4d5e6f'],
      ['one upper-case digit at the end', '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6F'],
      ['no dashes', '3f1c2a4e8b7d4c6a9e2f1a2b3c4d5e6f'],
      ['braces', '{3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f}'],
      ['a urn', 'urn:uuid:3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f'],
      ['a trailing newline', '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f\n'],
      ['one digit short', '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6'],
      ['a non-RFC-4122 variant', '3f1c2a4e-8b7d-4c6a-1e2f-1a2b3c4d5e6f'],
      ['a path', '../../etc/passwd'],
      ['empty', ''],
      ['a number', 42],
      ['null', null],
    ])('refuses %s', (_label, instance) => {
      expect(badFields(SchedulerStartParamsDto, start({ instance }))).toEqual(['instance']);
    });
  });

  describe('application.name: ^[a-z0-9][a-z0-9-]{0,62}$', () => {
    it.each([
      ['one letter', 'a'],
      ['one digit', '7'],
      ['a plain name', 'wikijs'],
      ['inner hyphens', 'nextcloud-hub-2'],
      ['a trailing hyphen', 'wiki-'],
      ['63 characters (the maximum)', 'a'.repeat(63)],
      ['a first character and 62 hyphens', 'a' + '-'.repeat(62)],
    ])('accepts %s', (_label, name) => {
      expect(problems(SchedulerStartParamsDto, withApp({ name }))).toEqual([]);
    });

    it.each([
      ['64 characters (one past the maximum)', 'a'.repeat(64)],
      ['empty', ''],
      ['upper case', 'WikiJS'],
      ['a leading hyphen', '-wiki'],
      ['an underscore', 'wiki_js'],
      ['a dot', 'wiki.js'],
      ['a space', 'wiki js'],
      ['a trailing newline', 'wikijs\n'],
      ['a non-ASCII letter', 'wïki'],
      ['a slash', 'wiki/js'],
      ['a number', 42],
      ['null', null],
      ['an array', ['wikijs']],
    ])('refuses %s', (_label, name) => {
      expect(badFields(SchedulerStartParamsDto, withApp({ name }))).toEqual(['application.name']);
    });
  });

  describe('application.version: ^[A-Za-z0-9._-]{1,64}$', () => {
    it.each([
      ['latest', 'latest'],
      ['a semver', '1.2.3'],
      ['a pre-release', 'v2.0.0-rc.1'],
      ['every allowed character class', 'Ab9._-'],
      ['one character', '1'],
      ['64 characters (the maximum)', 'x'.repeat(64)],
      ['a leading dot', '.hidden'],
    ])('accepts %s', (_label, version) => {
      expect(problems(SchedulerStartParamsDto, withApp({ version }))).toEqual([]);
    });

    it.each([
      ['65 characters (one past the maximum)', 'x'.repeat(65)],
      ['empty', ''],
      ['build metadata (+)', '1.2.3+build'],
      ['a space', '1 2'],
      ['a slash', '1/2'],
      ['a colon', 'image:tag'],
      ['a trailing newline', 'latest\n'],
      ['a non-ASCII letter', 'lätest'],
      ['a number', 1.2],
      ['null', null],
    ])('refuses %s', (_label, version) => {
      expect(badFields(SchedulerStartParamsDto, withApp({ version }))).toEqual(['application.version']);
    });
  });

  describe('application.appstore (the library’s own rule: 1–128 printable ASCII)', () => {
    it.each([
      ['empty', ''],
      ['129 characters', 'a'.repeat(129)],
      ['a newline', 'Mosaic\nCatalog'],
      ['a number', 1],
    ])('refuses %s', (_label, appstore) => {
      expect(badFields(SchedulerStartParamsDto, withApp({ appstore }))).toEqual(['application.appstore']);
    });

    it('accepts 128 printable characters', () => {
      expect(problems(SchedulerStartParamsDto, withApp({ appstore: 'a'.repeat(128) }))).toEqual([]);
    });
  });

  describe('compose: at most 256 KiB, counted in UTF-8 bytes', () => {
    const ascii = (bytes: number) => 'a'.repeat(bytes);

    it('the limit is 256 KiB', () => {
      expect(LIMITS.composeBytes).toBe(262144);
    });

    it.each([
      ['exactly 256 KiB of ASCII', ascii(256 * KIB)],
      ['exactly 256 KiB of 2-byte characters (é)', 'é'.repeat(128 * KIB)],
      ['exactly 256 KiB of 3-byte characters (€) and one ASCII byte', '€'.repeat(87381) + 'a'],
      ['exactly 256 KiB of 4-byte characters (emoji)', '😀'.repeat(64 * KIB)],
      ['one character', 'x'],
    ])('accepts %s', (_label, compose) => {
      expect(problems(SchedulerStartParamsDto, start({ compose }))).toEqual([]);
    });

    it.each([
      ['256 KiB + 1 byte of ASCII', ascii(256 * KIB + 1)],
      ['256 KiB of é plus one byte (131,073 characters only)', 'é'.repeat(128 * KIB) + 'a'],
      ['87,382 € signs (262,146 bytes in 87,382 UTF-16 units)', '€'.repeat(87382)],
      ['256 KiB of emoji plus one byte', '😀'.repeat(64 * KIB) + 'a'],
    ])('refuses %s', (_label, compose) => {
      expect(badFields(SchedulerStartParamsDto, start({ compose }))).toEqual(['compose']);
      expect(problemText(SchedulerStartParamsDto, start({ compose }))).toContain('262144 bytes');
    });

    it.each([
      ['empty', ''],
      ['a NUL byte', 'services:\0{}'],
      ['a number', 1],
      ['an object', { services: {} }],
      ['null', null],
    ])('refuses %s', (_label, compose) => {
      expect(badFields(SchedulerStartParamsDto, start({ compose }))).toEqual(['compose']);
    });
  });

  describe('links.<name>.domain: an RFC 1123 host name', () => {
    it.each([
      ['the example', 'brave-otter.example.net'],
      ['a single label', 'localhost'],
      ['a one-character label', 'a.b.c'],
      ['a label that starts with a digit (RFC 1123 §2.1)', '3com.example'],
      ['upper case', 'Brave-Otter.Example.NET'],
      ['an IDN in punycode', 'xn--bcher-kva.example'],
      ['a 63-character label', `${'a'.repeat(63)}.example.net`],
      ['a 63-character label with inner hyphens', `a${'-'.repeat(61)}z.example.net`],
      ['253 characters in total', hostOfLength(253)],
    ])('accepts %s', (_label, domain) => {
      expect(problems(SchedulerStartParamsDto, withLink({ domain }))).toEqual([]);
    });

    it.each([
      ['a 64-character label', `${'a'.repeat(64)}.example.net`],
      ['254 characters in total', hostOfLength(254)],
      ['empty', ''],
      ['a leading hyphen', '-otter.example.net'],
      ['a label ending in a hyphen', 'otter-.example.net'],
      ['an underscore', 'brave_otter.example.net'],
      ['an empty label', 'brave..example.net'],
      ['a leading dot', '.example.net'],
      ['a trailing dot', 'example.net.'],
      ['a space', 'brave otter.example.net'],
      ['a non-ASCII letter', 'bücher.example'],
      ['a URL', 'https://example.net'],
      ['a port', 'example.net:443'],
      ['a path', 'example.net/x'],
      ['a wildcard', '*.example.net'],
      ['a trailing newline', 'example.net\n'],
      ['a number', 42],
      ['null', null],
    ])('refuses %s', (_label, domain) => {
      expect(badFields(SchedulerStartParamsDto, withLink({ domain }))).toEqual(['links']);
      expect(problemText(SchedulerStartParamsDto, withLink({ domain }))).toMatch(/"default".*domain/);
    });
  });

  describe('links.<name>.token: at most 512 printable characters', () => {
    const allPrintable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

    it.each([
      ['512 characters (the maximum)', 'a'.repeat(512)],
      ['every printable ASCII character', allPrintable],
      ['one character', 'x'],
    ])('accepts %s', (_label, token) => {
      expect(problems(SchedulerStartParamsDto, withLink({ token }))).toEqual([]);
    });

    it.each([
      ['513 characters (one past the maximum)', 'a'.repeat(513)],
      ['a newline', 'abc\ndef'],
      ['a tab', 'abc\tdef'],
      ['a carriage return', 'abc\r'],
      ['NUL', 'abc\0'],
      ['DEL (0x7f)', 'abc\x7f'],
      ['an escape sequence', '\x1b[31mred'],
      ['a non-ASCII character', 'tökén'],
      ['empty', ''],
      ['a number', 12345],
      ['null', null],
    ])('refuses %s', (_label, token) => {
      expect(badFields(SchedulerStartParamsDto, withLink({ token }))).toEqual(['links']);
      expect(problemText(SchedulerStartParamsDto, withLink({ token }))).toMatch(/"default".*token/);
    });
  });

  describe('links (map)', () => {
    const link = { domain: 'a.example.net', token: 't' };

    it('accepts several links', () => {
      expect(problems(SchedulerStartParamsDto, start({ links: { default: link, admin_ui: link } }))).toEqual([]);
    });

    it('accepts no links at all', () => {
      expect(problems(SchedulerStartParamsDto, start({ links: {} }))).toEqual([]);
    });

    it.each([
      ['an unknown field in a link', { default: { ...link, port: 443 } }, 'port'],
      ['a link without its token', { default: { domain: 'a.example.net' } }, 'token'],
      ['a link without its domain', { default: { token: 't' } }, 'domain'],
      ['a link that is a string', { default: 'a.example.net' }, 'JSON object'],
      ['a link that is an array', { default: [link] }, 'JSON object'],
      ['a link that is null', { default: null }, 'JSON object'],
      ['a link name outside ^[a-z][a-z0-9_]{0,31}$', { 'Bad-Name': link }, 'Bad-Name'],
      ['more than LIMITS.links links', Object.fromEntries(Array.from({ length: LIMITS.links + 1 }, (_, i) => [`l${i}`, link])), 'at most 16'],
      ['an array', [link], 'JSON object'],
      ['a string', 'default', 'JSON object'],
      ['null', null, 'JSON object'],
    ])('refuses %s', (_label, links, hint) => {
      expect(badFields(SchedulerStartParamsDto, start({ links }))).toEqual(['links']);
      expect(problemText(SchedulerStartParamsDto, start({ links }))).toContain(hint);
    });

    it(`accepts exactly LIMITS.links (${LIMITS.links}) links`, () => {
      const links = Object.fromEntries(Array.from({ length: LIMITS.links }, (_, i) => [`l${i}`, link]));
      expect(problems(SchedulerStartParamsDto, start({ links }))).toEqual([]);
    });
  });

  describe('variables: keys ^[A-Z][A-Z0-9_]{0,63}$', () => {
    it.each([
      ['one letter', 'A'],
      ['a plain name', 'ADMIN_EMAIL'],
      ['digits after the first letter', 'X11_DISPLAY2'],
      ['a trailing underscore', 'NAME_'],
      ['64 characters (the maximum)', 'A' + 'B'.repeat(63)],
      ['a name that only looks like a reserved one', 'APP_INSTANCES'],
      ['LINK_DOMAIN without the underscore', 'LINK_DOMAIN'],
      ['LINK_DOMAINS', 'LINK_DOMAINS'],
      ['a reserved name inside a longer one', 'MY_APP_INSTANCE'],
    ])('accepts %s', (_label, key) => {
      expect(problems(SchedulerStartParamsDto, withVariables({ [key]: 'v' }))).toEqual([]);
    });

    it.each([
      ['65 characters (one past the maximum)', 'A' + 'B'.repeat(64)],
      ['lower case', 'admin_email'],
      ['mixed case', 'Admin'],
      ['a leading digit', '1ABC'],
      ['a leading underscore', '_ABC'],
      ['a hyphen', 'A-B'],
      ['a space', 'A B'],
      ['a dot', 'A.B'],
      ['a non-ASCII letter', 'ÄB'],
      ['a trailing newline', 'ABC\n'],
      ['an empty key', ''],
    ])('refuses %s', (_label, key) => {
      expect(badFields(SchedulerStartParamsDto, withVariables({ [key]: 'v' }))).toEqual(['variables']);
      expect(problemText(SchedulerStartParamsDto, withVariables({ [key]: 'v' }))).toContain('must match ^[A-Z][A-Z0-9_]{0,63}$');
    });
  });

  describe('variables: reserved names (the device sets them)', () => {
    it.each([
      'APP_INSTANCE',
      'APP_VOLUME_NAME',
      'LINK_VOLUME_NAME',
      'LINK_DOMAIN_DEFAULT',
      'LINK_TOKEN_DEFAULT',
      'LINK_DOMAIN_ADMIN_UI',
      'LINK_TOKEN_OTHER',
      'LINK_DOMAIN_',
      'LINK_TOKEN_',
    ])('refuses %s', (key) => {
      expect(badFields(SchedulerStartParamsDto, withVariables({ [key]: 'x' }))).toEqual(['variables']);
      expect(problemText(SchedulerStartParamsDto, withVariables({ [key]: 'x' }))).toContain(`"${key}" is reserved`);
    });
  });

  describe('variables: values at most 4,096 characters without NUL', () => {
    it.each([
      ['4,096 characters (the maximum)', 'x'.repeat(4096)],
      ['4,096 two-byte characters', 'é'.repeat(4096)],
      ['4,096 emoji (4,096 characters, 8,192 UTF-16 units)', '😀'.repeat(4096)],
      ['an empty string', ''],
      ['a newline', 'line one\nline two'],
      ['a CRLF', 'a\r\nb'],
      ['a ${...} expression', '${HOME}'],
      ['an unbalanced ${', '${'],
      ['a $$ escape', '$$ESCAPED'],
      ['a command substitution', '$(rm -rf /)'],
      ['double and single quotes', `say "hi" and 'bye'`],
      ['backticks', '`id`'],
      ['a {{placeholder}}', '{{user}}'],
      ['YAML syntax', 'key: [value, {a: b}] # comment'],
      ['a tab and a backslash', 'a\tb\\c'],
      ['leading and trailing spaces', '  padded  '],
    ])('accepts %s', (_label, value) => {
      expect(problems(SchedulerStartParamsDto, withVariables({ VALUE: value }))).toEqual([]);
    });

    it.each([
      ['4,097 characters', 'x'.repeat(4097)],
      ['4,097 emoji', '😀'.repeat(4097)],
      ['a NUL in the middle', 'a\0b'],
      ['only NUL', '\0'],
      ['a trailing NUL', 'value\0'],
    ])('refuses %s', (_label, value) => {
      expect(badFields(SchedulerStartParamsDto, withVariables({ VALUE: value }))).toEqual(['variables']);
      expect(problemText(SchedulerStartParamsDto, withVariables({ VALUE: value }))).toContain('"VALUE"');
    });

    it.each([
      ['a number', 42],
      ['a boolean', true],
      ['null', null],
      ['an object', { a: 'b' }],
      ['an array', ['a']],
    ])('refuses a value that is %s', (_label, value) => {
      expect(problemText(SchedulerStartParamsDto, withVariables({ VALUE: value }))).toContain('"VALUE" must be a string');
    });
  });

  describe('variables (map)', () => {
    it('accepts no variables', () => {
      expect(problems(SchedulerStartParamsDto, withVariables({}))).toEqual([]);
    });

    it(`accepts exactly LIMITS.variables (${LIMITS.variables}) variables and refuses one more`, () => {
      const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, 'x']));
      expect(problems(SchedulerStartParamsDto, withVariables(many(LIMITS.variables)))).toEqual([]);
      expect(problemText(SchedulerStartParamsDto, withVariables(many(LIMITS.variables + 1)))).toContain(
        `at most ${LIMITS.variables} entries`,
      );
    });

    it.each([
      ['an array', ['ADMIN_EMAIL=me@example.net']],
      ['a string', 'ADMIN_EMAIL=me@example.net'],
      ['null', null],
      ['a number', 1],
    ])('refuses %s', (_label, variables) => {
      expect(badFields(SchedulerStartParamsDto, withVariables(variables))).toEqual(['variables']);
    });

    it('reports every bad entry of the map, not only the first', () => {
      const text = problemText(
        SchedulerStartParamsDto,
        withVariables({ lower: 'x', APP_INSTANCE: 'y', NUL_VALUE: 'a\0', GOOD: 'fine', LONG: 'x'.repeat(4097) }),
      );
      expect(text).toContain('key "lower"');
      expect(text).toContain('"APP_INSTANCE" is reserved');
      expect(text).toContain('"NUL_VALUE" must not contain NUL');
      expect(text).toContain('"LONG" must be at most 4096 characters');
      expect(text).not.toContain('GOOD');
    });
  });

  describe('failover', () => {
    it.each([
      ['a string', 'false'],
      ['a number', 0],
      ['null', null],
    ])('refuses %s', (_label, failover) => {
      expect(badFields(SchedulerStartParamsDto, start({ failover }))).toEqual(['failover']);
    });
  });

  describe('missing fields', () => {
    it.each(['instance', 'application', 'compose', 'links', 'variables', 'failover'])('refuses a payload without %s', (field) => {
      const params = start();
      delete params[field];
      expect(badFields(SchedulerStartParamsDto, params)).toEqual([field]);
    });

    it.each(['appstore', 'name', 'version'])('refuses an application without %s', (field) => {
      const params = start();
      delete (params.application as Record<string, unknown>)[field];
      expect(badFields(SchedulerStartParamsDto, params)).toEqual([`application.${field}`]);
    });
  });

  describe('wrong types for the nested application object', () => {
    it.each([
      ['an array holding a valid application', [{ appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' }]],
      ['a string', 'wikijs'],
      ['a number', 1],
      ['null', null],
      ['true', true],
    ])('refuses %s', (_label, application) => {
      expect(badFields(SchedulerStartParamsDto, start({ application }))).toEqual(['application']);
    });
  });

  describe('unknown fields', () => {
    it('refuses one at the top level', () => {
      const details = problems(SchedulerStartParamsDto, start({ shell: 'rm -rf /' }));
      expect(details).toEqual([{ field: 'shell', problems: ['property shell should not exist'] }]);
    });

    it('refuses one inside application', () => {
      expect(badFields(SchedulerStartParamsDto, withApp({ image: 'evil' }))).toEqual(['application.image']);
    });

    it('refuses one inside a link', () => {
      expect(problemText(SchedulerStartParamsDto, withLink({ extra: 1 }))).toContain('property extra should not exist');
    });
  });
});

describe('SchedulerStopParamsDto (§2)', () => {
  it.each([
    ['only the instance', { instance: INSTANCE }],
    ['replicate: true', { instance: INSTANCE, replicate: true }],
    ['replicate: false', { instance: INSTANCE, replicate: false }],
    ['remove: false', { instance: INSTANCE, remove: false }],
    ['remove: true', { instance: INSTANCE, remove: true }],
    ['both flags', { instance: INSTANCE, replicate: true, remove: false }],
    ['reason: moved', { instance: INSTANCE, replicate: false, reason: 'moved' }],
    ['reason: removed', { instance: INSTANCE, replicate: false, reason: 'removed' }],
  ])('accepts %s', (_label, params) => {
    expect(problems(SchedulerStopParamsDto, params)).toEqual([]);
  });

  it.each([
    ['no instance', {}, ['instance']],
    ['an upper-case instance', { instance: INSTANCE.toUpperCase() }, ['instance']],
    ['replicate as a string', { instance: INSTANCE, replicate: 'true' }, ['replicate']],
    ['replicate as a number', { instance: INSTANCE, replicate: 1 }, ['replicate']],
    ['replicate: null (optional means absent, not null)', { instance: INSTANCE, replicate: null }, ['replicate']],
    ['remove: null', { instance: INSTANCE, remove: null }, ['remove']],
    ['an unknown field', { instance: INSTANCE, force: true }, ['force']],
    ['an unknown reason', { instance: INSTANCE, reason: 'revoked' }, ['reason']],
    ['reason: null', { instance: INSTANCE, reason: null }, ['reason']],
  ])('refuses %s', (_label, params, fields) => {
    expect(badFields(SchedulerStopParamsDto, params)).toEqual(fields);
  });
});

describe('EmptyParamsDto (diskSpace, info)', () => {
  it('accepts {}', () => {
    const result = validatePayload(EmptyParamsDto, {});
    expect(result).toEqual({ ok: true, value: {} });
  });

  it('accepts {} parsed from JSON', () => {
    expect(problems(EmptyParamsDto, JSON.parse('{}'))).toEqual([]);
  });

  it.each([
    ['one field', { force: true }, ['force']],
    ['two fields', { a: 1, b: 2 }, ['a', 'b']],
    ['a field named after the internal property', { none: 1 }, ['none']],
    ['a field whose value is null', { x: null }, ['x']],
  ])('refuses %s, naming exactly the fields sent', (_label, params, fields) => {
    expect(badFields(EmptyParamsDto, params)).toEqual(fields);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', '{}'],
    ['a number', 0],
    ['undefined', undefined],
  ])('refuses %s', (_label, params) => {
    expect(problems(EmptyParamsDto, params)).toEqual([{ field: '(payload)', problems: ['must be a JSON object'] }]);
  });
});

describe('UpgradeParamsDto (§2.6)', () => {
  it.each([
    ['{} (v1: update what runs)', {}],
    ['a version', { version: '1.4.0' }],
    ['a pre-release with build metadata', { version: '2.0.0-rc.1+build.5' }],
    ['an image of a registry with a port', { image: '127.0.0.1:5000/mosaic/device:0.2.0' }],
    ['an image by digest', { image: `ghcr.io/me/device@sha256:${'a'.repeat(64)}` }],
    ['an image of Docker Hub without a tag', { image: 'mosaic/device' }],
    ['both', { version: '0.2.0', image: 'registry.example/mosaic/device:0.2.0' }],
  ])('accepts %s', (_label, params) => {
    expect(problems(UpgradeParamsDto, params)).toEqual([]);
  });

  it.each([
    ['an unknown field', { version: '1.0.0', force: true }, ['force']],
    ['a version that is not semver', { version: 'v1.0' }, ['version']],
    ['a version as a number', { version: 1 }, ['version']],
    ['version: null', { version: null }, ['version']],
    ['an image with a space', { image: 'mosaic/device:1 --privileged' }, ['image']],
    ['an image in upper case', { image: 'Mosaic/Device' }, ['image']],
    ['an image that starts with a dash', { image: '-mosaic/device' }, ['image']],
    ['an image with a short digest', { image: 'mosaic/device@sha256:abc' }, ['image']],
    ['an empty image', { image: '' }, ['image']],
    ['an image longer than 512 characters', { image: `r.example/${'a'.repeat(500)}:1.0.0` }, ['image']],
  ])('refuses %s', (_label, params, fields) => {
    expect(badFields(UpgradeParamsDto, params)).toEqual(fields);
  });
});

describe('AppCommandRunParamsDto (§2.3)', () => {
  const run = (overrides: Record<string, unknown> = {}) => ({
    instance: INSTANCE,
    command: 'reset-password',
    args: { user: 'alice' },
    ...overrides,
  });

  it.each([
    ['the example with args', run()],
    ['no args', { instance: INSTANCE, command: 'reset-password' }],
    ['empty args', run({ args: {} })],
    ['an argument of LIMITS.appCommandArgChars characters', run({ args: { user: 'x'.repeat(LIMITS.appCommandArgChars) } })],
    ['a 64-character command name', run({ command: 'a'.repeat(64) })],
    ['dots and underscores in the command name', run({ command: 'db.dump_all' })],
    // The DTO does not judge contents: each argument is checked later against its declared
    // pattern (§2.3) and never reaches a shell.
    ['shell metacharacters in an argument value', run({ args: { user: '; rm -rf / #' } })],
  ])('accepts %s', (_label, params) => {
    expect(problems(AppCommandRunParamsDto, params)).toEqual([]);
  });

  it.each([
    ['no instance', { command: 'x' }, ['instance']],
    ['no command', { instance: INSTANCE }, ['command']],
    ['an upper-case command name', run({ command: 'Reset' }), ['command']],
    ['a leading hyphen in the command name', run({ command: '-x' }), ['command']],
    ['a 65-character command name', run({ command: 'a'.repeat(65) }), ['command']],
    ['a command with a space', run({ command: 'reset password' }), ['command']],
    ['an empty command', run({ command: '' }), ['command']],
    ['args: null', run({ args: null }), ['args']],
    ['args as an array', run({ args: ['alice'] }), ['args']],
    ['args as a string', run({ args: 'user=alice' }), ['args']],
    ['an argument that is a number', run({ args: { user: 1 } }), ['args']],
    ['an argument name with a hyphen', run({ args: { 'user-name': 'a' } }), ['args']],
    ['an argument name with a leading digit', run({ args: { '1user': 'a' } }), ['args']],
    ['an argument with NUL', run({ args: { user: 'a\0b' } }), ['args']],
    ['an argument one character too long', run({ args: { user: 'x'.repeat(LIMITS.appCommandArgChars + 1) } }), ['args']],
    [
      'more than LIMITS.appCommandArgs arguments',
      run({ args: Object.fromEntries(Array.from({ length: LIMITS.appCommandArgs + 1 }, (_, i) => [`a${i}`, 'x'])) }),
      ['args'],
    ],
    ['an unknown field', run({ shell: true }), ['shell']],
  ])('refuses %s', (_label, params, fields) => {
    expect(badFields(AppCommandRunParamsDto, params)).toEqual(fields);
  });
});
