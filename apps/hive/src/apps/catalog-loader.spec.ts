import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogError, loadCatalog } from './catalog-loader';

/** The repository's catalog, from this spec's folder (apps/hive/src/apps). */
const REPO_CATALOG = join(__dirname, '../../../../catalog');

const MANIFEST = {
  name: 'demo',
  title: 'Demo',
  description: 'A demo app.',
  version: '1.0.0',
  offline: true,
  variables: { GREETING: { description: 'What it says.', default: 'hello', pattern: '^[a-z]{1,16}$' } },
  open: { service: 'web', port: 8080 },
};

const COMPOSE = `
x-mosaic:
  commands:
    say:
      service: web
      argv: ["echo", "{{word}}"]
      args:
        word: { pattern: "^[a-z]{1,8}$" }
services:
  web:
    image: mosaic-test/busybox
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: \${GREETING}
      INSTANCE: \${APP_INSTANCE}
      LITERAL: "$$NOT_A_VARIABLE"
    ports: ["127.0.0.1::8080"]
    volumes:
      - app:/data
volumes:
  app:
    external: true
    name: \${APP_VOLUME_NAME}
  link:
    external: true
    name: \${LINK_VOLUME_NAME}
`;

describe('loadCatalog', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hive-catalog-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeApp(folder: string, manifest: unknown, compose: string | null = COMPOSE): string {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, 'app.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    if (compose !== null) writeFileSync(join(dir, folder, 'compose.yaml'), compose);
    return join(dir, folder);
  }

  /** The problems of a catalog that must be refused; fails the test when it loads. */
  function problemsOf(): string[] {
    let caught: unknown;
    try {
      loadCatalog(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CatalogError);
    return (caught as CatalogError).problems;
  }

  it('loads the repository catalog: every app valid, compose kept byte for byte', () => {
    const apps = loadCatalog(REPO_CATALOG);
    expect(apps.map((app) => [app.manifest.name, app.manifest.offline])).toEqual([
      ['notes', true],
      ['static-site', true],
      ['vaultwarden', false],
      ['wikijs', false],
    ]);
    for (const app of apps) {
      expect(app.compose).toBe(readFileSync(join(REPO_CATALOG, app.manifest.name, 'compose.yaml'), 'utf8'));
    }
    const notes = apps.find((app) => app.manifest.name === 'notes')!;
    expect(notes.commands['add-note']).toEqual({
      service: 'web',
      argv: ['/srv/bin/add-note', '{{text}}'],
      args: { text: "^[A-Za-z0-9 .,:;!?'()-]{1,200}$" },
      timeoutSeconds: 10,
    });
    expect(apps.find((app) => app.manifest.name === 'static-site')!.commands['show-page'].argv).toEqual(['cat', '/data/www/index.html']);
  });

  it('loads a valid app with its commands', () => {
    writeApp('demo', MANIFEST);
    const [app] = loadCatalog(dir);
    expect(app.manifest).toEqual(MANIFEST);
    expect(app.compose).toBe(COMPOSE);
    expect(app.commands).toEqual({
      say: { service: 'web', argv: ['echo', '{{word}}'], args: { word: '^[a-z]{1,8}$' }, timeoutSeconds: 60 },
    });
  });

  it('refuses a missing catalog folder, naming it', () => {
    rmSync(dir, { recursive: true });
    expect(problemsOf()).toEqual([expect.stringContaining(`${dir}: the catalog folder (HIVE_CATALOG_DIR) does not exist`)]);
  });

  it('names the file of malformed JSON, and every bad app at once', () => {
    const broken = writeApp('broken', '{"name": "broken",');
    const other = writeApp('other', { ...MANIFEST, name: 'other', colour: 'red' });
    const problems = problemsOf();
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^${join(broken, 'app.json')}: is not valid JSON`)),
      expect.stringMatching(new RegExp(`^${join(other, 'app.json')}: colour: .*should not exist`)),
    ]);
  });

  it.each([
    ['a name other than the folder', { name: 'other' }, /name "other" must be the folder's name "demo"/],
    ['a bad version', { version: 'v 1' }, /version: version must match/],
    ['offline as a string', { offline: 'yes' }, /offline: offline must be a boolean/],
    ['a reserved variable', { variables: { APP_INSTANCE: { description: 'x' } } }, /variables\.APP_INSTANCE is reserved/],
    ['a variable that steers Docker', { variables: { DOCKER_HOST: { description: 'x' } } }, /variables\.DOCKER_HOST would steer/],
    ['a lower-case variable', { variables: { greeting: { description: 'x' } } }, /key "greeting" must match/],
    ['an unknown field in a variable', { variables: { GREETING: { description: 'x', colour: 1 } } }, /colour/],
    [
      'a pattern that does not compile',
      { variables: { GREETING: { description: 'x', pattern: '([a-z' } } },
      /GREETING\.pattern is not a regular expression RE2 accepts/,
    ],
    [
      'a pattern that needs backtracking',
      { variables: { GREETING: { description: 'x', pattern: '^(?=h)[a-z]+$' } } },
      /GREETING\.pattern is not a regular expression RE2 accepts/,
    ],
    [
      'a default its pattern refuses',
      { variables: { GREETING: { description: 'x', default: 'HELLO', pattern: '^[a-z]+$' } } },
      /GREETING\.default does not match its pattern/,
    ],
    [
      'a secret with a default',
      { variables: { GREETING: { description: 'x', default: 'hello', secret: true } } },
      /GREETING is secret, so it cannot have a default/,
    ],
    [
      'a required variable with a default',
      { variables: { GREETING: { description: 'x', default: 'hello', required: true } } },
      /GREETING is required, so it cannot have a default/,
    ],
    [
      'an open port the service does not publish',
      { open: { service: 'web', port: 9090 } },
      /open\.port 9090 is not published by service "web"/,
    ],
    ['an open service that does not exist', { open: { service: 'db', port: 8080 } }, /open\.service "db" is not a service/],
  ])('refuses app.json with %s, naming app.json', (_label, change, expected) => {
    const folder = writeApp('demo', { ...MANIFEST, ...change });
    const problems = problemsOf();
    expect(problems.some((p) => p.startsWith(join(folder, 'app.json')) && expected.test(p))).toBe(true);
  });

  const service = (lines: string) => COMPOSE.replace('    image: mosaic-test/busybox\n', `    image: mosaic-test/busybox\n${lines}\n`);

  it.each([
    ['privileged', service('    privileged: true'), /services\.web: privileged is refused/],
    ['host networking', service('    network_mode: host'), /network_mode: host is refused/],
    ['the host pid namespace', service('    pid: host'), /pid: host is refused/],
    ['devices', service('    devices: ["/dev/sda:/dev/sda"]'), /devices is refused/],
    ['a capability beyond the defaults', service('    cap_add: [SYS_ADMIN]'), /cap_add SYS_ADMIN/],
    ['an unconfined seccomp', service('    security_opt: ["seccomp:unconfined"]'), /security_opt seccomp:unconfined/],
    ['a build', service('    build: .'), /build is refused/],
    ['an env_file', service('    env_file: .env'), /env_file reads host files/],
    ['extends from a file', service('    extends: { file: other.yaml, service: web }'), /extends may only name a service of the same file/],
    ['volumes_from', service('    volumes_from: [other]'), /volumes_from is refused/],
    ['a bind mount', COMPOSE.replace('      - app:/data', '      - app:/data\n      - /etc:/host-etc'), /bind mount of \/etc is refused/],
    [
      'a relative bind mount',
      COMPOSE.replace('      - app:/data', '      - app:/data\n      - ./site:/site'),
      /bind mount of \.\/site is refused/,
    ],
    [
      'the Docker socket',
      COMPOSE.replace(
        '      - app:/data',
        '      - app:/data\n      - type: bind\n        source: /var/run/docker.sock\n        target: /s',
      ),
      /reaches the Docker engine/,
    ],
    [
      'an undeclared volume',
      COMPOSE.replace('      - app:/data', '      - app:/data\n      - cache:/cache'),
      /volume "cache" is not declared/,
    ],
    [
      'another external volume',
      `${COMPOSE}  other:\n    external: true\n    name: someone-elses\n`,
      /volumes\.other: an external volume other than/,
    ],
    ['a missing link volume', COMPOSE.replace(/  link:\n.*\n.*\n$/, ''), /must declare the link volume/],
    ['include', `include: [other.yaml]\n${COMPOSE}`, /include reads other files/],
    ['a config read from a host file', `${COMPOSE}configs:\n  c:\n    file: /etc/passwd\n`, /configs\.c: file reads a host file/],
    ['an undeclared variable', service('    user: ${RUN_AS}'), /\$\{RUN_AS\} is used but not declared/],
    ['a link the Hive never gives', service('    hostname: ${LINK_DOMAIN_ADMIN}'), /\$\{LINK_DOMAIN_ADMIN\} is never set/],
    [
      'a shell as an app command',
      COMPOSE.replace('argv: ["echo", "{{word}}"]', 'argv: ["/bin/sh", "-c", "{{word}}"]'),
      /argv\[0\] "\/bin\/sh" is a shell/,
    ],
    [
      'a placeholder inside text',
      COMPOSE.replace('argv: ["echo", "{{word}}"]', 'argv: ["echo", "say {{word}}"]'),
      /mixes a placeholder with text/,
    ],
    [
      'an argument without a placeholder',
      COMPOSE.replace('argv: ["echo", "{{word}}"]', 'argv: ["echo", "hi"]'),
      /args word have no placeholder/,
    ],
    [
      'a command on an unknown service',
      COMPOSE.replace('service: web\n      argv', 'service: db\n      argv'),
      /service must name one of the app's services/,
    ],
    ['YAML that does not parse', 'services: [', /is not valid YAML/],
    ['duplicate keys', `${COMPOSE}services: {}\n`, /is not valid YAML/],
  ])('refuses compose.yaml with %s, naming compose.yaml', (_label, compose, expected) => {
    const folder = writeApp('demo', MANIFEST, compose);
    const problems = problemsOf();
    expect(problems.filter((p) => p.startsWith(join(folder, 'compose.yaml')) && expected.test(p))).toHaveLength(1);
  });

  it('refuses a declared variable the template never uses, and a missing compose.yaml', () => {
    writeApp('demo', { ...MANIFEST, variables: { ...MANIFEST.variables, UNUSED: { description: 'x' } } });
    writeApp('empty', { ...MANIFEST, name: 'empty' }, null);
    expect(problemsOf()).toEqual([
      `${join(dir, 'demo', 'app.json')}: declares UNUSED but the template never uses it`,
      `${join(dir, 'empty', 'compose.yaml')}: is missing`,
    ]);
  });

  it('refuses a folder whose name cannot be an app name', () => {
    writeApp('Demo', { ...MANIFEST, name: 'Demo' });
    expect(problemsOf()).toEqual([expect.stringContaining(`${join(dir, 'Demo')}: an app folder's name must match`)]);
  });
});
