import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page, Request } from 'playwright-core';
import { derivePassphraseVerifier } from '@mosaic/protocol';
import { version } from '../../package.json';
import { TEST_ADMIN_TOKEN, TestHive, startTestHive } from '../../apps/hive/src/testing/test-hive';
import { AxeViolation, TestBrowser, screenshot, seriousViolations } from '../support/browser';
import { DeviceProcess } from '../support/device-process';
import { eventually } from '../support/eventually';
import { IsolatedEngine } from '../support/isolated-engine';
import { shellWords } from '../support/shell-words';
import { RunningPlugin, pluginConfig, startPlugin } from '../support/storage-plugin';

jest.setTimeout(600_000);

const run = promisify(execFile);
const USER = 'operator';
const PASSWORD = 'a long operator password';
const PASSPHRASE = 'correct horse battery staple';
const IMAGES = [`mosaic/device:${version}`, `mosaic/storage-plugin:${version}`];

/**
 * The Console as a person uses it, in Debian's Chromium, against a real Hive (in this process,
 * serving the built Console at `/`) and real Devices on engines of the test's own: the first run,
 * the passphrase, a device started from the `docker run` command the page shows, an app installed,
 * used, stopped, started and moved to a second device, bad input on every form, an expired session,
 * a device going offline, a forced move past it with the loss-window confirmation, and an axe-core
 * scan of every page. Screenshots: test/artifacts/console.
 */
describe('the Console in a real browser', () => {
  // Under /tmp: the isolated engines see the machine's /tmp (their containers bind folders from it).
  const root = join('/tmp', `mosaic-console-${process.pid}`);
  const replicas = join(root, 'replicas');
  let hive: TestHive;
  let browser: TestBrowser;
  let page: Page;
  let engineA: IsolatedEngine;
  let engineB: IsolatedEngine;
  let pluginB: RunningPlugin | undefined;
  let deviceB: DeviceProcess | undefined;
  let deviceAId = '';
  let deviceBId = '';
  let instance = '';
  const scans: Record<string, AxeViolation[]> = {};
  /** Every request the page made that could change something: bad input must add none. */
  const changes: string[] = [];
  const pageErrors: string[] = [];
  const figures: string[] = [];

  /** A screenshot and an axe-core scan of the page as it is now. */
  async function look(name: string): Promise<void> {
    await screenshot(page, name);
    scans[name] = await seriousViolations(page);
  }

  /** The message shown next to a field, found through its aria-describedby. */
  async function fieldError(label: string): Promise<string | null> {
    const input = page.getByLabel(label, { exact: true });
    const described = (await input.getAttribute('aria-describedby')) ?? '';
    const id = described.split(' ').find((x) => x.endsWith('-error'));
    if (!id) return null;
    if ((await input.getAttribute('aria-invalid')) !== 'true') return null;
    return page.locator(`[id="${id}"]`).textContent();
  }

  /**
   * The error shown next to a field the page marks invalid, once it does: the page renders after the
   * click or keystroke that caused it, which a loaded machine can delay past an immediate read.
   */
  async function errorShown(label: string): Promise<string | null> {
    await page.getByLabel(label, { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor({ timeout: 10_000 });
    return fieldError(label);
  }

  /** What the page sends from now on while `act` runs (changes only). */
  async function sentDuring(act: () => Promise<void>): Promise<string[]> {
    const before = changes.length;
    await act();
    return changes.slice(before);
  }

  const go = async (hash: string) => {
    await page.goto(`${hive.url}/#/${hash}`);
  };
  const shownCommand = async () => (await page.getByTestId('docker-run').textContent()) ?? '';

  /** Once the app page shows it running: its list-notes command, run from its form, and the output shown. */
  async function listNotesOnThePage(): Promise<string> {
    await page.locator('.title-row .badge.state-running').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Run list-notes' }).click();
    const notes = page.getByLabel('Output of list-notes');
    await notes.waitFor({ timeout: 60_000 });
    return (await notes.textContent()) ?? '';
  }

  beforeAll(async () => {
    for (const dir of ['a/apps', 'a/volumes', 'b', 'replicas']) mkdirSync(join(root, dir), { recursive: true });
    hive = await startTestHive({ dbPath: join(root, 'hive.db') });
    browser = await TestBrowser.launch();
    page = await browser.context.newPage();
    page.on('request', (request: Request) => {
      if (request.method() !== 'GET' && new URL(request.url()).pathname.startsWith('/api/')) {
        changes.push(`${request.method()} ${new URL(request.url()).pathname}`);
      }
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    [engineA, engineB] = await Promise.all([IsolatedEngine.start(), IsolatedEngine.start()]);
    await engineA.loadImages(...IMAGES);
  });

  afterAll(async () => {
    process.stdout.write(`console e2e figures:\n${figures.map((f) => `  ${f}\n`).join('')}`);
    await browser?.close();
    await deviceB?.stop();
    await pluginB?.close();
    if (engineA && process.env.DEVICE_TEST_LOG)
      process.stdout.write(await engineA.docker('logs', '--tail', '80', 'mosaic-device').catch(String));
    await Promise.all([engineA?.stop(), engineB?.stop()]);
    await hive?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('first run: refuses bad input next to each field without sending it, then creates the operator account', async () => {
    await page.goto(hive.url);
    await page.getByRole('heading', { name: 'Welcome to Mosaic' }).waitFor();
    await look('01-first-run');

    const sent = await sentDuring(async () => {
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('alert').first().waitFor();
      expect(await errorShown('Admin token')).toBe('Enter the HIVE_ADMIN_TOKEN this Hive was started with.');
      expect(await errorShown('User name')).toBe('Use 1–64 letters, digits or . _ @ -');
      expect(await errorShown('Password')).toBe('Use at least 12 characters.');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Password again', { exact: true }).fill(`${PASSWORD}!`);
      await page.getByRole('button', { name: 'Create account' }).click();
      expect(await errorShown('Password again')).toBe('The two passwords differ.');
      expect(await fieldError('Password')).toBeNull();
    });
    expect(sent).toEqual([]);
    await look('01-first-run-errors');

    // The Hive's own check: only its admin token may create the account.
    await page.getByLabel('Admin token', { exact: true }).fill('not the admin token');
    await page.getByLabel('User name', { exact: true }).fill(USER);
    await page.getByLabel('Password again', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('is not this Hive’s HIVE_ADMIN_TOKEN').waitFor();
    expect(await errorShown('Admin token')).toBe('is not this Hive’s HIVE_ADMIN_TOKEN');
    expect((await hive.api.get('/api/session')).body.setupRequired).toBe(true);
    expect(await page.getByLabel('User name', { exact: true }).inputValue()).toBe(USER);

    await page.getByLabel('Admin token', { exact: true }).fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    const cookie = (await browser.context.cookies(hive.url)).find((c) => c.name === 'mosaic_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    // Sign out and in again, with the sign-in form's own bad input first.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Mosaic' }).waitFor();
    await look('02-sign-in');
    expect(
      await sentDuring(async () => {
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').first().waitFor();
        expect(await errorShown('User name')).toBe('Enter your user name.');
        expect(await errorShown('Password')).toBe('Enter your password.');
      }),
    ).toEqual([]);
    await page.getByLabel('User name', { exact: true }).fill(USER);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The user name or the password is wrong.').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await look('03-devices-empty');
  });

  it('sets the passphrase in the browser: weak, short and mismatched ones refused, only a verifier sent', async () => {
    await go('passphrase');
    await page.getByRole('heading', { name: 'Account passphrase' }).waitFor();
    await page.getByText('A lost passphrase cannot be recovered.', { exact: true }).waitFor();
    const submit = () => page.getByRole('button', { name: 'Set the passphrase' }).click();
    const sent = await sentDuring(async () => {
      await page.getByLabel('Passphrase', { exact: true }).fill('too short');
      await submit();
      expect(await errorShown('Passphrase')).toBe('Use at least 12 characters.');
      await page.getByLabel('Passphrase', { exact: true }).fill('aaaaaaaaaaaaaaaa');
      await submit();
      expect(await errorShown('Passphrase')).toMatch(/^Too weak \(very weak\)/);
      await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
      await page.getByLabel('Passphrase again', { exact: true }).fill(`${PASSPHRASE}.`);
      await submit();
      expect(await fieldError('Passphrase')).toBeNull();
      expect(await errorShown('Passphrase again')).toBe('The two passphrases differ.');
      expect(await page.locator('#understood-error').textContent()).toBe('Confirm that you have read this.');
    });
    expect(sent).toEqual([]);
    await look('04-passphrase-errors');

    await page.getByLabel('Passphrase again', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel(/I understand that a lost passphrase/).check();
    const put = page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/api/account/passphrase'));
    await submit();
    const body = (await put).postData() ?? '';
    await page.getByText('The passphrase is set.').waitFor({ timeout: 60_000 });
    expect(body).not.toContain(PASSPHRASE);
    const account = (await hive.api.get('/api/account')).body;
    const verifier = await derivePassphraseVerifier(PASSPHRASE, account.passphrase.salt);
    expect(JSON.parse(body)).toEqual({ verifier, replace: false });
    expect((await hive.api.post('/api/account/passphrase/check', { verifier })).body).toEqual({ matches: true });
    await look('05-passphrase-set');
  });

  it('adds a device: the docker run command from the page, run as shown, brings the green circle', async () => {
    await go('add-device');
    await page.getByRole('heading', { name: 'Add a device' }).waitFor();
    // The passphrase typed on the passphrase page is kept in memory; a wrong one is caught before any device exists.
    expect(await page.getByLabel('Account passphrase', { exact: true }).inputValue()).toBe(PASSPHRASE);
    await page.getByLabel('Account passphrase', { exact: true }).fill('not the account passphrase');
    const sent = await sentDuring(async () => {
      await page.getByRole('button', { name: 'Create the command' }).click();
      await page.getByText('This is not the account’s passphrase.').waitFor({ timeout: 60_000 });
    });
    expect(sent).toEqual(['POST /api/account/passphrase/check']);
    expect((await hive.api.get('/api/devices')).body).toEqual([]);
    await look('06-add-device');

    await page.getByLabel('Account passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Create the command' }).click();
    await page.getByRole('heading', { name: 'Run this on the machine' }).waitFor({ timeout: 60_000 });
    const masked = await shownCommand();
    expect(masked).toContain('DEVICE_PASSPHRASE=••••••••');
    expect(masked).not.toContain(PASSPHRASE);
    await look('07-docker-run');
    await page.getByRole('button', { name: 'Show secrets' }).click();
    const argv = shellWords(await shownCommand());
    await page.getByRole('button', { name: 'Hide secrets' }).click();
    expect(argv).toContain(`DEVICE_PASSPHRASE=${PASSPHRASE}`);
    expect(argv).toContain(`HIVE_URL=${hive.url}`);
    expect(argv.at(-1)).toBe(`mosaic/device:${version}`);
    [deviceAId] = (await hive.api.get('/api/devices')).body.map((d: { id: string }) => d.id);

    // Run as shown, adapting only what differs here: the test's own engine (its CLI socket and the
    // socket mounted into the device), host networking (this Hive listens on the machine's loopback),
    // the host folders (under the test's root, and the replica folder device B shares), and no fixed
    // monitor port on the host network; reports of volumes every 5 s so the page shows replicas soon.
    expect(argv.slice(0, 2)).toEqual(['docker', 'run']);
    const adapted = ['-H', `unix://${engineA.socket}`, 'run', '--network', 'host'];
    for (let i = 2; i < argv.length - 1; i++) {
      const value = argv[i];
      if (value === '-v' || value === '-e') {
        adapted.push(value, argv[++i].replace('/var/run/docker.sock:', `${engineA.socket}:`).replaceAll('/var/lib/mosaic/', `${root}/a/`));
      } else adapted.push(value);
    }
    adapted.push('-e', `VOLUMES_DIR=${root}/a/volumes`, '-e', `REPLICA_URL=${replicas}`, '-e', 'MONITOR_ADDRESS=127.0.0.1:0');
    adapted.push('-e', 'REPORT_VOLUMES_INTERVAL_S=5', argv.at(-1)!);
    const started = Date.now();
    await run('docker', adapted);
    await page.getByText('is connected and ready').waitFor({ timeout: 240_000 });
    const toGreen = (Date.now() - started) / 1000;
    figures.push(`docker run → green circle: ${toGreen.toFixed(1)} s`);
    expect(await page.locator('.wait [data-health]').getAttribute('data-health')).toBe('green');
    await look('08-device-ready');

    await go('devices');
    const card = page.locator(`[data-device="${deviceAId}"]`);
    await card.locator('[data-health="green"]').waitFor();
    // Created without a name, the device named itself (its host name).
    expect((await card.getByRole('heading').textContent())?.trim()).not.toMatch(/^Unnamed/);
    await look('09-devices');
    await go(`devices/${deviceAId}`);
    await page.getByRole('button', { name: 'Show disk space and system info' }).click();
    await page.getByText('Docker Engine').waitFor({ timeout: 60_000 });
    await page.getByLabel('Device name', { exact: true }).fill('');
    expect(
      await sentDuring(async () => {
        await page.getByRole('button', { name: 'Rename' }).click();
        expect(await errorShown('Device name')).toBe('Use 1–128 characters.');
      }),
    ).toEqual([]);
    await page.getByLabel('Device name', { exact: true }).fill('first');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'first', exact: true }).waitFor();
    await look('10-device');
  });

  it('installs notes from its generated form, runs add-note from its form and shows the output, stops and starts it', async () => {
    await go('catalog');
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await look('11-catalog');
    await page.getByRole('link', { name: 'Install Notes' }).click();
    await page.getByRole('heading', { name: 'Install Notes' }).waitFor();
    await page.getByLabel('Device').selectOption(deviceAId);
    await page.getByLabel('NOTES_TITLE (optional)').fill('Notes <script>');
    expect(
      await sentDuring(async () => {
        await page.getByRole('button', { name: 'Install' }).click();
        expect(await errorShown('NOTES_TITLE (optional)')).toMatch(/^Must match /);
      }),
    ).toEqual([]);
    await look('12-install-errors');
    expect((await hive.api.get('/api/apps')).body).toEqual([]);

    await page.getByLabel('NOTES_TITLE (optional)').fill('Kitchen notes');
    await page.getByRole('button', { name: 'Install' }).click();
    await page.getByText('Notes is running.').waitFor({ timeout: 240_000 });
    [instance] = (await hive.api.get('/api/apps')).body.map((a: { instance: string }) => a.instance);
    await page.getByRole('link', { name: 'Open the app’s page' }).click();
    await page.locator('.badge.state-running').first().waitFor({ timeout: 60_000 });

    const text = page.getByLabel('text', { exact: true }).first();
    await text.fill('<b>not a note</b>');
    expect(
      await sentDuring(async () => {
        await page.getByRole('button', { name: 'Run add-note' }).click();
        expect(await errorShown('text')).toMatch(/^Must match /);
      }),
    ).toEqual([]);
    await text.fill('hello from the console');
    await page.getByRole('button', { name: 'Run add-note' }).click();
    const output = page.getByLabel('Output of add-note');
    await output.waitFor({ timeout: 60_000 });
    expect(await output.textContent()).toBe('added: hello from the console\n');
    // The first replica (the plugin replicates a new volume at once) shows as a relative time.
    await page
      .getByText(/last replica .* ago/)
      .first()
      .waitFor({ timeout: 120_000 });
    await look('13-app');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.locator('.title-row .badge.state-stopped').waitFor({ timeout: 180_000 });
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('.title-row .badge.state-running').waitFor({ timeout: 180_000 });
  });

  it('moves the app to a second device with live progress through the move, and the note is there', async () => {
    await go('add-device');
    await page.getByLabel('Name (optional)').fill('second');
    await page.getByRole('button', { name: 'Create the command' }).click();
    await page.getByRole('heading', { name: 'Run this on the machine' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Show secrets' }).click();
    const env = Object.fromEntries(
      shellWords(await shownCommand())
        .filter((_, i, all) => all[i - 1] === '-e')
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    deviceBId = (await hive.api.get('/api/devices')).body.find((d: { name: string }) => d.name === 'second').id;
    // Device B runs as a process beside its own plugin (as in the failover test), with the page's token and passphrase.
    pluginB = await startPlugin(pluginConfig(join(root, 'b'), { DOCKER_PLUGIN_DIR: engineB.pluginDir, REPLICA_URL: replicas }));
    deviceB = new DeviceProcess({
      HIVE_URL: env.HIVE_URL,
      DEVICE_TOKEN: env.DEVICE_TOKEN,
      DEVICE_PASSPHRASE: env.DEVICE_PASSPHRASE,
      DOCKER_HOST: `unix://${engineB.socket}`,
      STORAGE_PLUGIN_SOCKET: pluginB.config.controlSocket,
      APPS_DIR: join(root, 'b/apps'),
      STATE_DIR: join(root, 'b/state'),
      VOLUMES_DIR: pluginB.config.dataDir,
      REPORT_APPS_INTERVAL_S: '2',
      REPORT_VOLUMES_INTERVAL_S: '1',
    });
    await page.getByText('is connected and ready').waitFor({ timeout: 120_000 });

    await go(`apps/${instance}`);
    await page.locator('.title-row .badge.state-running').waitFor({ timeout: 60_000 });
    await page.getByLabel('Device', { exact: true }).selectOption(deviceBId);
    await page.getByRole('button', { name: 'Move Notes' }).click();
    await page.locator('.steps li[aria-current="step"]').first().waitFor();
    const seen = new Set<string>();
    await eventually(
      'the move running on B',
      async () => {
        const current = await page
          .locator('.steps li[aria-current="step"]')
          .first()
          .textContent({ timeout: 500 })
          .catch(() => null);
        if (current) seen.add(current);
        return page.getByText('Moved: the app runs on second.').isVisible();
      },
      (moved) => moved,
      240_000,
    );
    await look('14-moved');
    figures.push(`move steps the page showed: ${[...seen].join(' → ')}`);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect((await hive.api.get(`/api/apps/${instance}`)).body.deviceId).toBe(deviceBId);

    expect(await listNotesOnThePage()).toContain('hello from the console');
    await look('15-app-on-second');
  });

  it('keeps what was typed when the session expires, changes nothing with it, and goes on after signing in again', async () => {
    await go('settings');
    const field = page.getByLabel('Warn when a volume’s last replica is older than (minutes)');
    await field.fill('0');
    expect(
      await sentDuring(async () => {
        await page.getByRole('button', { name: 'Save' }).click();
        expect(await errorShown('Warn when a volume’s last replica is older than (minutes)')).toBe(
          'Enter whole minutes from 1 to 43200 (30 days).',
        );
      }),
    ).toEqual([]);
    await look('16-settings');
    await field.fill('30');

    // The session ends behind the page's back (as an idle expiry or a sign-out elsewhere does).
    const cookie = (await browser.context.cookies(hive.url)).find((c) => c.name === 'mosaic_session')!;
    const headers = { cookie: `mosaic_session=${cookie.value}` };
    const { csrfToken } = (await (await fetch(`${hive.url}/api/session`, { headers })).json()) as { csrfToken: string };
    expect((await fetch(`${hive.url}/api/session`, { method: 'DELETE', headers: { ...headers, 'x-csrf-token': csrfToken } })).status).toBe(
      204,
    );

    // The page learns it either from the live socket (at the Hive's next change notice) or from the
    // refused request when Save is clicked first: whichever comes first opens the sign-in dialog.
    const dialog = page.getByRole('dialog', { name: 'Your session has expired' });
    if (!(await dialog.isVisible()))
      await page
        .getByRole('button', { name: 'Save' })
        .click({ timeout: 5000 })
        .catch(() => undefined);
    await dialog.waitFor();
    // The dialog says what happened; behind it the field keeps what was typed.
    expect(await field.inputValue()).toBe('30');
    await look('17-session-expired');
    expect((await hive.api.get('/api/settings')).body.replicationWarningMinutes).toBe(120);
    await dialog.getByLabel('User name', { exact: true }).fill(USER);
    await dialog.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await field.inputValue()).toBe('30');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await hive.api.get('/api/settings')).body.replicationWarningMinutes).toBe(30);
  });

  it('turns a device’s circle red within seconds when it goes offline while its page is open', async () => {
    await go(`devices/${deviceBId}`);
    await page.locator('.title-row [data-health="green"]').waitFor({ timeout: 60_000 });
    const stopped = Date.now();
    await deviceB!.stop();
    await page.locator('.title-row [data-health="red"]').waitFor({ timeout: 10_000 });
    figures.push(`device offline → red circle: ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
    await look('18-device-offline');
  });

  it('offers to force a move whose device is offline, says plainly what may be lost, and moves the app from the last replica', async () => {
    await go(`apps/${instance}`);
    await page.getByRole('heading', { name: 'Notes', exact: true }).waitFor();
    await page.getByLabel('Device', { exact: true }).selectOption(deviceAId);
    const sent = await sentDuring(async () => {
      await page.getByRole('button', { name: 'Move Notes' }).click();
      await page.getByRole('button', { name: 'Move anyway, from the last replica…' }).waitFor();
    });
    expect(sent).toEqual([`POST /api/apps/${instance}/move`]);
    expect((await hive.api.get(`/api/apps/${instance}/moves`)).body).toHaveLength(1);

    await page.getByRole('button', { name: 'Move anyway, from the last replica…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move without a final replica?' });
    await dialog.waitFor();
    expect(await dialog.locator('.loss').textContent()).toMatch(/^Whatever changed after .+ is lost\.$/);
    expect(await dialog.getByRole('button', { name: 'Move anyway' }).isDisabled()).toBe(true);
    await look('19-force-move');
    await dialog.getByLabel('I accept losing those changes.').check();
    await dialog.getByRole('button', { name: 'Move anyway' }).click();
    await page.getByText('Moved: the app runs on first.').waitFor({ timeout: 240_000 });
    await page.getByText(/^Forced: the data is from the replica of /).waitFor();
    const moves = (await hive.api.get(`/api/apps/${instance}/moves`)).body;
    expect(moves[0]).toMatchObject({ force: true, state: 'running', to: deviceAId, stopError: { code: 'DEVICE_OFFLINE' } });
    expect(await listNotesOnThePage()).toContain('hello from the console');
    await look('20-forced-move');
  });

  it('has no serious or critical accessibility violation on any page, at phone width and in dark mode too', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const [hash, name] of [
      ['devices', '21-phone-dark-devices'],
      [`apps/${instance}`, '22-phone-dark-app'],
      ['apps', '23-phone-dark-apps'],
      ['passphrase', '24-phone-dark-passphrase'],
    ]) {
      await go(hash);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      await look(name);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
    await go('apps');
    await page.locator('table').waitFor();
    await look('25-apps');
    // Keyboard: a fresh page's first Tab reaches the skip link; a route change moves focus to the content.
    const focused = () =>
      page.evaluate(() => {
        const active = (globalThis as unknown as { document: { activeElement: { id: string; textContent: string } } }).document
          .activeElement;
        return active.id || active.textContent;
      });
    await page.reload();
    await page.locator('table').waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.getByRole('link', { name: 'Devices', exact: true }).press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    expect(await focused()).toBe('main');

    const failing = Object.entries(scans).filter(([, violations]) => violations.length > 0);
    expect(
      failing.map(([name, violations]) => [name, violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes[0]?.target})`)]),
    ).toEqual([]);
    expect(Object.keys(scans).length).toBeGreaterThanOrEqual(25);
    expect(pageErrors).toEqual([]);
  });
});
