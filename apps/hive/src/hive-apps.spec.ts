import { CommandType, ErrorCode, Events, SchedulerStartParamsDto, validatePayload } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HiveDatabase } from './database/database';
import { AppDevice } from './testing/app-device';
import { FakeDevice } from './testing/fake-device';
import { armored, instanceKeys, randomVerifier } from './testing/fixtures';
import { TestHive, startTestHive } from './testing/test-hive';

/** The repository's catalog, which the in-process Hive reads by default. */
const CATALOG = join(__dirname, '../../../catalog');
const catalogCompose = (app: string) => readFileSync(join(CATALOG, app, 'compose.yaml'), 'utf8');

describe('Hive apps (in-process Hive, fake device over socket.io)', () => {
  let hive: TestHive;
  let verifier: string;
  const open: FakeDevice[] = [];

  beforeAll(async () => {
    hive = await startTestHive();
    verifier = randomVerifier();
    expect((await hive.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
  });

  afterEach(() => {
    for (const device of open.splice(0)) device.close();
  });

  afterAll(async () => {
    await hive.close();
  });

  async function connectedDevice(api = hive.api, url = hive.url): Promise<{ id: string; token: string; app: AppDevice }> {
    const { id, token } = (await api.post('/api/devices', { name: 'living-room' })).body;
    return { id, token, app: await reconnect(url, token) };
  }

  async function reconnect(url: string, token: string): Promise<AppDevice> {
    const device = FakeDevice.withToken(url, token);
    open.push(device);
    expect(await device.prove(verifier)).toEqual({ ok: true });
    return new AppDevice(device);
  }

  describe('GET /api/catalog', () => {
    it('lists every app.json of the catalog with its app commands, without templates', async () => {
      const listed = await hive.api.get('/api/catalog');
      expect(listed.status).toBe(200);
      expect(listed.body.map((app: any) => app.name)).toEqual(['notes', 'static-site', 'vaultwarden', 'wikijs']);
      const manifest = JSON.parse(readFileSync(join(CATALOG, 'static-site', 'app.json'), 'utf8'));
      expect(listed.body[1]).toEqual({ ...manifest, commands: expect.objectContaining({ 'show-page': { service: 'web', args: {} } }) });
      expect(listed.body[0].commands['add-note']).toEqual({ service: 'web', args: { text: { pattern: expect.any(String) } } });
      expect(JSON.stringify(listed.body)).not.toContain('services:');
    });

    it('shows one app with its compose template, and 404 for an unknown one', async () => {
      const one = await hive.api.get('/api/catalog/notes');
      expect(one.status).toBe(200);
      expect(one.body.compose).toBe(catalogCompose('notes'));
      const missing = await hive.api.get('/api/catalog/nextcloud');
      expect(missing).toEqual({ status: 404, body: { code: ErrorCode.NOT_FOUND, message: expect.stringContaining('nextcloud') } });
    });

    it('needs the admin token', async () => {
      expect((await hive.api.as(null).get('/api/catalog')).status).toBe(401);
    });
  });

  describe('install', () => {
    it('sends exactly the protocol start params and answers 201 with the app and the finished command', async () => {
      const { id, app } = await connectedDevice();
      const response = await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site', variables: { SITE_TITLE: 'Our family site' } });
      expect(response.status).toBe(201);

      expect(app.received).toHaveLength(1);
      const envelope = app.received[0];
      expect(envelope.type).toBe(CommandType.SchedulerStart);
      const { instance } = response.body;
      expect(envelope.params).toEqual({
        instance,
        application: { appstore: 'Mosaic Catalog', name: 'static-site', version: '1.0.0' },
        compose: catalogCompose('static-site'),
        links: {
          default: { domain: `static-site-${instance.slice(0, 8)}.mosaic.test`, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
        },
        variables: { HTTP_PORT: '0', SITE_TITLE: 'Our family site' },
        failover: false,
      });
      expect(validatePayload(SchedulerStartParamsDto, envelope.params).ok).toBe(true);

      expect(response.body).toEqual({
        instance,
        app: {
          instance,
          deviceId: id,
          application: { appstore: 'Mosaic Catalog', name: 'static-site', version: '1.0.0' },
          desired: 'running',
          state: 'unknown',
          containers: [],
          volumes: [],
          links: { default: { domain: `static-site-${instance.slice(0, 8)}.mosaic.test` } },
          variables: { HTTP_PORT: '0', SITE_TITLE: 'Our family site' },
          reportedAt: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
        command: {
          id: envelope.id,
          type: CommandType.SchedulerStart,
          status: 'succeeded',
          issuedAt: envelope.issuedAt,
          ack: { accepted: true },
          result: { instance, state: 'running', containers: [{ service: 'web', containerId: 'c0ffee', state: 'running' }] },
          finishedAt: expect.any(String),
        },
      });
      expect(JSON.stringify(response.body)).not.toContain(envelope.params.links.default.token);
    });

    it('keeps the link token in the apps table only, once the start has ended', async () => {
      const { id, app } = await connectedDevice();
      const response = await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site' });
      expect(response.status).toBe(201);
      const token = app.received[0].params.links.default.token;
      const db = hive.app.get(HiveDatabase);
      const row = await db.q.selectFrom('commands').selectAll().where('id', '=', response.body.command.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('succeeded');
      expect(JSON.parse(row.params).links).toEqual({ default: { domain: `static-site-${response.body.instance.slice(0, 8)}.mosaic.test` } });
      expect(JSON.stringify(await db.q.selectFrom('commands').selectAll().execute())).not.toContain(token);
      expect(JSON.stringify(await db.q.selectFrom('apps').select('links').where('instance', '=', response.body.instance).execute())).toContain(token);
    });

    it('takes a given instance and domain, applies defaults, and issues a new link token per app', async () => {
      const { id, app } = await connectedDevice();
      const instance = randomUUID();
      const first = await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes', instance, domain: 'notes.example.net' });
      expect(first.status).toBe(201);
      expect(first.body.instance).toBe(instance);
      expect(app.last().params).toMatchObject({
        instance,
        links: { default: { domain: 'notes.example.net' } },
        variables: { NOTES_TITLE: 'Notes' },
      });

      await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes' });
      expect(app.received[1].params.links.default.token).not.toBe(app.received[0].params.links.default.token);

      const again = await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site', instance });
      expect(again).toEqual({ status: 409, body: { code: 'APP_EXISTS', message: expect.any(String) } });
      expect(app.received).toHaveLength(2);
    });

    it('answers 200 with the device error when the start fails, and keeps the app to retry or remove', async () => {
      const { id, app } = await connectedDevice();
      const violations = [{ service: 'web', rule: 'privileged', message: 'asks to run privileged' }];
      app.next({
        ok: false,
        error: { code: ErrorCode.POLICY_VIOLATION, message: 'The app asks for 1 thing(s) the device does not allow.', details: violations },
      });
      const response = await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site' });
      expect(response.status).toBe(200);
      expect(response.body.command).toMatchObject({ status: 'failed', error: { code: ErrorCode.POLICY_VIOLATION, details: violations } });
      expect((await hive.api.get(`/api/apps/${response.body.instance}`)).body.desired).toBe('running');

      // The device never created it, so removing it answers NOT_FOUND: the record goes all the same.
      app.next({ ok: false, error: { code: ErrorCode.NOT_FOUND, message: 'This device does not know the instance.' } });
      const removed = await hive.api.post(`/api/apps/${response.body.instance}/stop`, { remove: true });
      expect(removed.status).toBe(200);
      expect(removed.body).toMatchObject({ instance: response.body.instance, app: null, command: { status: 'failed' } });
      expect((await hive.api.get(`/api/apps/${response.body.instance}`)).status).toBe(404);
    });

    it('answers 202 while the device still works, when asked not to wait', async () => {
      const { id, app } = await connectedDevice();
      app.next('no-result');
      const response = await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes', wait: false });
      expect(response.status).toBe(202);
      expect(response.body.command).toMatchObject({ status: 'accepted', ack: { accepted: true } });

      const envelope = app.last();
      const done = app.device.emitWithAck(Events.commandResult, {
        id: envelope.id,
        type: envelope.type,
        ok: true,
        result: { instance: envelope.params.instance, state: 'running', containers: [] },
        finishedAt: new Date().toISOString(),
      });
      expect(await done).toEqual({ ok: true });
      expect((await hive.api.get(`/api/devices/${id}/commands/${envelope.id}`)).body.status).toBe('succeeded');
    });

    it('keeps secret variables from every answer', async () => {
      const { id, app } = await connectedDevice();
      const secret = 'correct-horse-battery-staple';
      const response = await hive.api.post(`/api/devices/${id}/apps`, { app: 'vaultwarden', variables: { ADMIN_TOKEN: secret } });
      expect(response.status).toBe(201);
      expect(app.last().params.variables).toEqual({ SIGNUPS_ALLOWED: 'true', ADMIN_TOKEN: secret });
      expect(response.body.app.variables).toEqual({ SIGNUPS_ALLOWED: 'true' });
      for (const body of [
        response.body,
        (await hive.api.get('/api/apps')).body,
        (await hive.api.get(`/api/apps/${response.body.instance}`)).body,
      ]) {
        expect(JSON.stringify(body)).not.toContain(secret);
      }
    });

    it('answers 404 for an unknown app or device, and 409 DEVICE_OFFLINE without keeping the app', async () => {
      const { id, app } = await connectedDevice();
      const unknownApp = await hive.api.post(`/api/devices/${id}/apps`, { app: 'nextcloud' });
      expect(unknownApp).toEqual({ status: 404, body: { code: ErrorCode.NOT_FOUND, message: expect.stringContaining('nextcloud') } });
      const unknownDevice = await hive.api.post(`/api/devices/${randomUUID()}/apps`, { app: 'notes' });
      expect(unknownDevice.status).toBe(404);
      expect(app.received).toEqual([]);

      const offline = (await hive.api.post('/api/devices', { name: 'asleep' })).body;
      const instance = randomUUID();
      const refused = await hive.api.post(`/api/devices/${offline.id}/apps`, { app: 'notes', instance });
      expect(refused).toEqual({ status: 409, body: { code: 'DEVICE_OFFLINE', message: expect.any(String) } });
      expect((await hive.api.get(`/api/apps/${instance}`)).status).toBe(404);
    });

    it.each([
      ['an unknown field and a non-string app', { app: 7, colour: 'red' }, ['app', 'colour']],
      ['a bad instance id', { app: 'notes', instance: 'NOT-A-UUID' }, ['instance']],
      ['a domain that is not a host name', { app: 'notes', domain: 'under_score.example' }, ['domain']],
      ['wait as a string', { app: 'notes', wait: 'yes' }, ['wait']],
      ['a timeout beyond 600 s', { app: 'notes', timeoutSeconds: 601 }, ['timeoutSeconds']],
      ['a variable the app does not declare', { app: 'notes', variables: { COLOUR: 'red' } }, ['variables.COLOUR']],
      ['a variable its pattern refuses', { app: 'notes', variables: { NOTES_TITLE: '<script>' } }, ['variables.NOTES_TITLE']],
      ['a reserved variable', { app: 'notes', variables: { LINK_TOKEN_DEFAULT: 'mine' } }, ['variables.LINK_TOKEN_DEFAULT']],
      ['a non-string variable', { app: 'notes', variables: { NOTES_TITLE: 1 } }, ['variables']],
    ])('answers 400 naming the field for %s, and sends nothing', async (_label, body, fields) => {
      const { id, app } = await connectedDevice();
      const response = await hive.api.post(`/api/devices/${id}/apps`, body);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe(ErrorCode.INVALID_PARAMS);
      expect(response.body.details.map((d: { field: string }) => d.field).sort()).toEqual(fields);
      expect(app.received).toEqual([]);
    });
  });

  describe('installed apps', () => {
    it('lists apps with the state, containers and volumes their device reports, and never a link token', async () => {
      const { id, app } = await connectedDevice();
      const installed = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes' })).body;
      const { instance } = installed;
      const token = app.last().params.links.default.token;
      const other = randomUUID();

      const containers = [{ service: 'web', containerId: 'abc123', state: 'running', health: 'healthy' }];
      const appsReport = {
        at: '2026-11-25T10:00:00.000Z',
        apps: [
          { instance, application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' }, state: 'running', containers },
          {
            instance: other,
            application: { appstore: 'Mosaic Catalog', name: 'static-site', version: '1.0.0' },
            state: 'stopped',
            containers: [],
          },
        ],
      };
      const volume = (owner: string, role: 'app' | 'link') => ({
        name: `mosaic-${owner}-${role}`,
        instance: owner,
        role,
        fingerprint: (role === 'app' ? 'a' : 'b').repeat(40),
        publicKey: armored('PUBLIC', `${owner}-${role}`),
        lastReplicatedAt: role === 'app' ? '2026-11-25T09:59:00.000Z' : null,
        replication: { state: 'idle' },
        sizeBytes: 4096,
      });
      const volumesReport = {
        at: '2026-11-25T10:00:00.000Z',
        volumes: [volume(instance, 'app'), volume(instance, 'link'), volume(other, 'app')],
      };
      expect(await app.device.emitWithAck(Events.reportApps, appsReport)).toEqual({ ok: true });
      expect(await app.device.emitWithAck(Events.reportVolumes, volumesReport)).toEqual({ ok: true });

      const expected = {
        ...installed.app,
        state: 'running',
        containers,
        volumes: [volume(instance, 'app'), volume(instance, 'link')].map(({ instance: _owner, ...rest }) => rest),
        reportedAt: '2026-11-25T10:00:00.000Z',
      };
      const one = await hive.api.get(`/api/apps/${instance}`);
      expect(one).toEqual({ status: 200, body: expected });
      const all = await hive.api.get('/api/apps');
      expect(all.body.find((a: { instance: string }) => a.instance === instance)).toEqual(expected);
      const ofDevice = await hive.api.get(`/api/devices/${id}/apps`);
      expect(ofDevice.body).toEqual([expected]);
      for (const body of [one.body, all.body, ofDevice.body]) expect(JSON.stringify(body)).not.toContain(token);

      expect((await hive.api.get(`/api/apps/${randomUUID()}`)).status).toBe(404);
    });

    it('stops, starts with the same stored params, and removes an app', async () => {
      const { id, app } = await connectedDevice();
      const installed = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site' })).body;
      const { instance } = installed;
      const startParams = app.last().params;

      const stopped = await hive.api.post(`/api/apps/${instance}/stop`, { replicate: true });
      expect(stopped.status).toBe(200);
      expect(app.last()).toMatchObject({ type: CommandType.SchedulerStop, params: { instance, replicate: true } });
      expect(Object.keys(app.last().params).sort()).toEqual(['instance', 'replicate']);
      expect(stopped.body).toMatchObject({ instance, app: { desired: 'stopped' }, command: { status: 'succeeded' } });

      const started = await hive.api.post(`/api/apps/${instance}/start`);
      expect(started.status).toBe(200);
      expect(app.last()).toMatchObject({ type: CommandType.SchedulerStart });
      expect(app.last().params).toEqual(startParams);
      expect(started.body.app.desired).toBe('running');

      const removed = await hive.api.post(`/api/apps/${instance}/stop`, { remove: true, wait: true });
      expect(removed.status).toBe(200);
      expect(app.last().params).toEqual({ instance, remove: true });
      expect(removed.body).toMatchObject({ instance, app: null, command: { status: 'succeeded' } });
      expect((await hive.api.get(`/api/apps/${instance}`)).status).toBe(404);
      expect((await hive.api.post(`/api/apps/${instance}/start`, {})).status).toBe(404);
    });

    it('keeps the desired state when the device refuses a stop', async () => {
      const { id, app } = await connectedDevice();
      const { instance } = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes' })).body;
      app.device.socket.removeAllListeners(Events.command);
      app.device.onCommand((envelope) => ({ id: envelope.id, accepted: false, error: { code: ErrorCode.BUSY, message: 'busy' } }));
      const refused = await hive.api.post(`/api/apps/${instance}/stop`, {});
      expect(refused.status).toBe(200);
      expect(refused.body).toMatchObject({ app: { desired: 'running' }, command: { status: 'refused', error: { code: ErrorCode.BUSY } } });
    });

    it('runs an app command with its argument, after checking it against the app declaration', async () => {
      const { id, app } = await connectedDevice();
      const { instance } = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes' })).body;

      const ran = await hive.api.post(`/api/apps/${instance}/commands`, {
        command: 'add-note',
        args: { text: "Buy milk, it's (nearly) gone!" },
      });
      expect(ran.status).toBe(200);
      expect(app.last()).toMatchObject({
        type: CommandType.AppCommandRun,
        params: { instance, command: 'add-note', args: { text: "Buy milk, it's (nearly) gone!" } },
      });
      expect(ran.body).toEqual({
        instance,
        command: expect.objectContaining({
          status: 'succeeded',
          result: { exitCode: 0, stdout: 'ran add-note\n', stderr: '', truncated: false },
        }),
      });

      const listed = await hive.api.post(`/api/apps/${instance}/commands`, { command: 'list-notes' });
      expect(listed.status).toBe(200);
      expect(app.last().params).toEqual({ instance, command: 'list-notes' });

      const sent = app.received.length;
      const cases: Array<[unknown, string[]]> = [
        [{ command: 'add-note', args: { text: 'rm -rf / ; $(reboot)' } }, ['args.text']],
        [{ command: 'add-note' }, ['args.text']],
        [{ command: 'list-notes', args: { path: '/etc/passwd' } }, ['args.path']],
        [{ command: 'format-disk' }, ['command']],
        [{ command: 'Add Note' }, ['command']],
        [{ command: 'add-note', args: { text: 'hi' }, shell: true }, ['shell']],
      ];
      for (const [body, fields] of cases) {
        const response = await hive.api.post(`/api/apps/${instance}/commands`, body);
        expect(response.status).toBe(400);
        expect(response.body.details.map((d: { field: string }) => d.field)).toEqual(fields);
      }
      expect(app.received).toHaveLength(sent);
      expect((await hive.api.post(`/api/apps/${randomUUID()}/commands`, { command: 'list-notes' })).status).toBe(404);
    });

    it('shows the device error of an app command, such as NOT_RUNNING', async () => {
      const { id, app } = await connectedDevice();
      const { instance } = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'static-site' })).body;
      app.next({ ok: false, error: { code: ErrorCode.NOT_RUNNING, message: 'Service web is not running.' } });
      const response = await hive.api.post(`/api/apps/${instance}/commands`, { command: 'show-page' });
      expect(response.status).toBe(200);
      expect(response.body.command).toMatchObject({ status: 'failed', error: { code: ErrorCode.NOT_RUNNING } });
    });

    it('keeps an app whose device was revoked, without a device to command', async () => {
      const { id } = await connectedDevice();
      const { instance } = (await hive.api.post(`/api/devices/${id}/apps`, { app: 'notes' })).body;
      expect((await hive.api.delete(`/api/devices/${id}`)).status).toBe(204);
      expect((await hive.api.get(`/api/apps/${instance}`)).body).toMatchObject({ instance, deviceId: null, state: 'unknown' });
      const start = await hive.api.post(`/api/apps/${instance}/start`, {});
      expect(start).toEqual({ status: 409, body: { code: 'APP_UNASSIGNED', message: expect.any(String) } });
    });
  });

  describe('keys.list (§3: keys opened ahead)', () => {
    it("names the account's apps on other devices whose keys Hive holds, oldest first; not the asking device's own", async () => {
      const a = await connectedDevice();
      const b = await connectedDevice();
      const install = async (deviceId: string) => (await hive.api.post(`/api/devices/${deviceId}/apps`, { app: 'static-site', variables: {} })).body.instance as string;
      const first = await install(a.id);
      const second = await install(a.id);
      const withoutKeys = await install(a.id);
      const onB = await install(b.id);
      for (const [instance, seed] of [[first, 'first'], [second, 'second']]) {
        expect(await a.app.device.emitWithAck(Events.keysPut, { instance, keys: instanceKeys(seed) })).toEqual({ ok: true });
      }
      expect(await b.app.device.emitWithAck(Events.keysPut, { instance: onB, keys: instanceKeys('on b') })).toEqual({ ok: true });

      const listedForB = await b.app.device.emitWithAck(Events.keysList, {});
      expect(listedForB).toEqual({ ok: true, instances: [first, second] });
      expect(listedForB.instances).not.toContain(withoutKeys);
      expect(await a.app.device.emitWithAck(Events.keysList, {})).toEqual({ ok: true, instances: [onB] });
    });

    it('takes an empty object only, and answers only a device that proved the passphrase', async () => {
      const { app } = await connectedDevice();
      for (const bad of [{ instance: randomUUID() }, [], 'all', null]) {
        expect(await app.device.emitWithAck(Events.keysList, bad)).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_PARAMS } });
      }
      const { token } = (await hive.api.post('/api/devices', { name: 'unproven' })).body;
      const unproven = FakeDevice.withToken(hive.url, token);
      open.push(unproven);
      await unproven.hello;
      expect(await unproven.emitWithAck(Events.keysList, {})).toMatchObject({ ok: false, error: { code: ErrorCode.NOT_AUTHENTICATED } });
    });
  });

  describe('after a Hive restart', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-apps-'));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('sends the very same start params again, link token included', async () => {
      const dbPath = join(dir, 'hive.db');
      const before = await startTestHive({ dbPath });
      let after: TestHive | undefined;
      try {
        expect((await before.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
        const first = await connectedDevice(before.api, before.url);
        const { instance } = (await before.api.post(`/api/devices/${first.id}/apps`, { app: 'notes' })).body;
        const installParams = first.app.last().params;
        first.app.device.close();
        await before.close();

        after = await startTestHive({ dbPath });
        expect((await after.api.get(`/api/apps/${instance}`)).body).toMatchObject({ instance, deviceId: first.id, desired: 'running' });
        const device = await reconnect(after.url, first.token);
        const started = await after.api.post(`/api/apps/${instance}/start`, {});
        expect(started.status).toBe(200);
        expect(device.last()).toMatchObject({ type: CommandType.SchedulerStart, params: installParams });
        expect(device.last().params).toEqual(installParams);
      } finally {
        await after?.close();
      }
    });
  });
});
