import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseAppCommands as deviceAppCommands } from '../../apps/device/src/apps/app-commands';
import { checkComposePolicy, checkTemplateInputs } from '../../apps/device/src/apps/compose-policy';
import { placeholderOf } from '../../apps/hive/src/apps/app-commands';
import { CatalogApp, loadCatalog } from '../../apps/hive/src/apps/catalog-loader';
import { engine, httpGet, projectContainers, publishedPort, removeInstance } from '../support/engine';

jest.setTimeout(120_000);

const run = promisify(execFile);
const REPO = join(__dirname, '../..');
const CATALOG = join(REPO, 'catalog');
const catalog = loadCatalog(CATALOG);

/** What the device puts in Compose's environment (§2.1): the app's variables, then its own, which win. */
function environment(app: CatalogApp, instance: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [name, spec] of Object.entries(app.manifest.variables)) {
    if (spec.default !== undefined) variables[name] = spec.default;
  }
  return {
    ...variables,
    APP_INSTANCE: instance,
    APP_VOLUME_NAME: `mosaic-${instance}-app`,
    LINK_VOLUME_NAME: `mosaic-${instance}-link`,
    LINK_DOMAIN_DEFAULT: `${app.manifest.name}-${instance.slice(0, 8)}.mosaic.test`,
    LINK_TOKEN_DEFAULT: randomBytes(32).toString('base64url'),
  };
}

/** A compose project laid out as the device lays it out: APPS_DIR/<instance>/compose.yaml, project mosaic-<instance>. */
class Project {
  readonly instance = randomUUID();
  readonly dir: string;
  readonly env: Record<string, string>;

  constructor(
    readonly app: CatalogApp,
    appsDir: string,
  ) {
    this.dir = join(appsDir, this.instance);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'compose.yaml'), app.compose);
    this.env = environment(app, this.instance);
  }

  /** `docker compose …` with an argv array and only the app's variables (plus PATH and DOCKER_HOST) in its environment. */
  async compose(...args: string[]): Promise<string> {
    const env: Record<string, string> = { ...this.env, PATH: process.env.PATH ?? '/usr/bin:/bin' };
    if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST;
    const { stdout } = await run(
      'docker',
      [
        'compose',
        '--project-name',
        `mosaic-${this.instance}`,
        '--project-directory',
        this.dir,
        '--file',
        join(this.dir, 'compose.yaml'),
        ...args,
      ],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: 90_000 },
    );
    return stdout;
  }

  async config(): Promise<Record<string, any>> {
    return JSON.parse(await this.compose('config', '--format', 'json')) as Record<string, any>;
  }
}

describe('the catalog on the real Compose', () => {
  let appsDir: string;

  beforeAll(() => {
    appsDir = realpathSync(mkdtempSync(join(tmpdir(), 'mosaic-catalog-')));
  });

  afterAll(() => rmSync(appsDir, { recursive: true, force: true }));

  it('has the apps the Hive offers', () => {
    expect(catalog.map((app) => [app.manifest.name, app.manifest.offline])).toEqual([
      ['notes', true],
      ['static-site', true],
      ['vaultwarden', false],
      ['wikijs', false],
    ]);
  });

  describe.each(catalog.map((app) => [app.manifest.name, app] as const))('%s', (_name, app) => {
    it('passes `docker compose config` with the reserved variables, and the device policy on the result', async () => {
      const project = new Project(app, appsDir);
      const normalised = await project.config();

      const volumes = [project.env.APP_VOLUME_NAME, project.env.LINK_VOLUME_NAME];
      expect(Object.values(normalised.volumes).map((v: any) => v.name)).toEqual(expect.arrayContaining([project.env.APP_VOLUME_NAME]));
      expect(checkTemplateInputs(parseYaml(app.compose))).toEqual([]);
      expect(
        checkComposePolicy(normalised, { allowedCaps: ['NET_ADMIN', 'NET_BIND_SERVICE'], deviceVolumes: volumes }),
      ).toEqual([]);

      const declared = deviceAppCommands(normalised['x-mosaic'], Object.keys(normalised.services));
      expect(declared.violations).toEqual([]);
      expect(Object.keys(declared.commands).sort()).toEqual(Object.keys(app.commands).sort());

      // The link token reaches no service unless the template asks for it; none of ours does.
      expect(JSON.stringify(normalised)).not.toContain(project.env.LINK_TOKEN_DEFAULT);
    });
  });
});

describe('the offline catalog apps run on the real engine', () => {
  let appsDir: string;
  const projects: Project[] = [];

  beforeAll(() => {
    appsDir = realpathSync(mkdtempSync(join(tmpdir(), 'mosaic-catalog-run-')));
  });

  async function up(name: string): Promise<Project> {
    const app = catalog.find((a) => a.manifest.name === name)!;
    const project = new Project(app, appsDir);
    projects.push(project);
    // The device creates both volumes before Compose runs; here the local driver stands in for the
    // plugin. Naming it matters: without a driver the engine asks every volume plugin it knows first.
    for (const volume of [project.env.APP_VOLUME_NAME, project.env.LINK_VOLUME_NAME])
      await engine.createVolume({ Name: volume, Driver: 'local' });
    await project.compose('up', '--detach', '--quiet-pull');
    return project;
  }

  async function webPort(project: Project): Promise<number> {
    const [container] = await projectContainers(project.instance);
    return publishedPort(container.Id, project.app.manifest.open!.port);
  }

  /** An app command as the device runs it: the declared argv, placeholders bound, `docker exec` without a shell. */
  async function appCommand(project: Project, command: string, args: Record<string, string> = {}): Promise<string> {
    const spec = project.app.commands[command];
    const argv = spec.argv.map((element) => {
      const placeholder = placeholderOf(element);
      return placeholder === undefined ? element : args[placeholder];
    });
    const [container] = await projectContainers(project.instance);
    const { stdout } = await run('docker', ['exec', container.Id, ...argv], { timeout: spec.timeoutSeconds * 1000 });
    return stdout;
  }

  afterAll(async () => {
    for (const project of projects) await removeInstance(project.instance);
    rmSync(appsDir, { recursive: true, force: true });
  });

  it('static-site serves its page from the app volume, keeps an edited page across down and up, and shows it', async () => {
    const project = await up('static-site');
    const first = await httpGet(await webPort(project));
    expect(first.status).toBe(200);
    expect(first.body).toContain(`Served by Mosaic instance ${project.instance}`);
    expect(first.body).toContain('<title>My static site</title>');
    expect(await appCommand(project, 'show-page')).toBe(first.body);

    const [container] = await projectContainers(project.instance);
    await run('docker', ['exec', container.Id, 'sed', '-i', 's/My static site/Edited by hand/g', '/data/www/index.html']);
    await project.compose('down');
    await project.compose('up', '--detach');
    const again = await httpGet(await webPort(project));
    expect(again.status).toBe(200);
    expect(again.body).toContain('<title>Edited by hand</title>');
    expect(again.body).not.toContain('My static site');
  });

  it('notes counts visits and keeps notes in the app volume across down and up', async () => {
    const project = await up('notes');
    let port = await webPort(project);
    expect((await httpGet(port, '/cgi-bin/count')).body).toBe('1\n');
    expect((await httpGet(port, '/cgi-bin/count')).body).toBe('2\n');
    const index = await httpGet(port, '/');
    expect(index.body).toContain('<title>Notes</title>');

    const text = "Buy milk, it's (nearly) gone!";
    expect(project.app.commands['add-note'].args.text).toBeDefined();
    expect(new RegExp(project.app.commands['add-note'].args.text).test(text)).toBe(true);
    expect(await appCommand(project, 'add-note', { text })).toBe(`added: ${text}\n`);
    // A value is one argv element: what a shell would expand stays text.
    expect(await appCommand(project, 'add-note', { text: '$(id)' })).toBe('added: $(id)\n');

    await project.compose('down');
    await project.compose('up', '--detach');
    port = await webPort(project);
    expect((await httpGet(port, '/cgi-bin/count')).body).toBe('3\n');
    const notes = await httpGet(port, '/cgi-bin/notes');
    expect(notes.status).toBe(200);
    expect(notes.body).toMatch(new RegExp(`^# Notes\\n\\S+Z Buy milk, it's \\(nearly\\) gone!\\n\\S+Z \\$\\(id\\)\\n$`));
    expect(await appCommand(project, 'list-notes')).toBe(notes.body.replace('# Notes\n', ''));
    expect(await appCommand(project, 'visits')).toBe('3\n');
  });
});

describe('the built Hive (dist/apps/hive/main.js)', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  });

  it('finds the repository catalog from its own location and serves it', async () => {
    const main = join(REPO, 'dist/apps/hive/main.js');
    expect(existsSync(main) ? main : 'dist/apps/hive/main.js is missing: run `npx nest build hive` first').toBe(main);
    const adminToken = randomBytes(16).toString('hex');
    child = spawn(process.execPath, [main], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', HIVE_ADMIN_TOKEN: adminToken, HIVE_PORT: '0', HIVE_DB: ':memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Hive listening on (http:\/\/[\w.:[\]-]+)/.exec(output);
        if (match) resolve(match[1]);
      };
      child!.stdout!.on('data', seen);
      child!.stderr!.on('data', seen);
      child!.once('exit', (code) => reject(new Error(`the Hive exited with ${code}:\n${output}`)));
    });
    const response = await fetch(`${url}/api/catalog`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status).toBe(200);
    const apps = (await response.json()) as Array<{ name: string }>;
    expect(apps.map((app) => app.name)).toEqual(catalog.map((app) => app.manifest.name));
  });
});
