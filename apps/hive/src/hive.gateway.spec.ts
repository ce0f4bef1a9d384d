import { CommandType, ErrorCode, Events, HelloDto, PROTOCOL_VERSION, derivePassphraseVerifier, validatePayload } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { FakeDevice } from './testing/fake-device';
import { appsReport, infoResult, instanceKeys, randomVerifier, volumesReport } from './testing/fixtures';
import { TestHive, startTestHive } from './testing/test-hive';

/** The Hive in-process on a free port, and fake devices speaking docs/protocol.md over a raw socket.io client. */
describe('Hive (in-process, fake devices over socket.io)', () => {
  let hive: TestHive;
  const devices: FakeDevice[] = [];

  beforeAll(async () => {
    hive = await startTestHive();
  });

  afterEach(() => {
    for (const device of devices.splice(0)) device.close();
  });

  afterAll(async () => {
    await hive.close();
  });

  function track(device: FakeDevice): FakeDevice {
    devices.push(device);
    return device;
  }

  async function createDevice(name = 'kitchen'): Promise<{ id: string; token: string }> {
    const created = await hive.api.post('/api/devices', { name });
    expect(created.status).toBe(201);
    return created.body;
  }

  /** A device that connected and proved the account's verifier; commands can reach it. */
  async function authenticatedDevice(verifier: string): Promise<{ id: string; token: string; device: FakeDevice }> {
    const { id, token } = await createDevice();
    const device = track(FakeDevice.withToken(hive.url, token));
    expect(await device.prove(verifier)).toEqual({ ok: true });
    return { id, token, device };
  }

  describe('passphrase', () => {
    it('adopts the first verifier a device proves, then refuses a different one with PASSPHRASE_MISMATCH', async () => {
      const account = await hive.api.get('/api/account');
      expect(account.body.passphrase.set).toBe(false);
      const verifier = await derivePassphraseVerifier('correct horse battery staple', account.body.passphrase.salt);

      const first = await createDevice('first');
      const firstDevice = track(FakeDevice.withToken(hive.url, first.token));
      expect((await firstDevice.hello).passphrase.set).toBe(false);
      expect(await firstDevice.prove(verifier)).toEqual({ ok: true });
      expect((await hive.api.get('/api/account')).body.passphrase).toEqual({ salt: account.body.passphrase.salt, set: true });

      const second = await createDevice('second');
      const secondDevice = track(FakeDevice.withToken(hive.url, second.token));
      expect((await secondDevice.hello).passphrase.set).toBe(true);
      const wrong = await derivePassphraseVerifier('another passphrase', account.body.passphrase.salt);
      const refused = await secondDevice.prove(wrong);
      expect(refused).toEqual({ ok: false, error: { code: ErrorCode.PASSPHRASE_MISMATCH, message: expect.any(String) } });
      expect((await hive.api.get(`/api/devices/${second.id}`)).body.authenticated).toBe(false);

      expect(await secondDevice.emitWithAck(Events.passphraseProve, { verifier })).toEqual({ ok: true });
    });

    it('PUT /api/account/passphrase refuses to replace a set verifier unless replace is true', async () => {
      const conflict = await hive.api.put('/api/account/passphrase', { verifier: randomVerifier() });
      expect(conflict.status).toBe(409);
      expect(conflict.body.code).toBe('PASSPHRASE_ALREADY_SET');

      const verifier = randomVerifier();
      const replaced = await hive.api.put('/api/account/passphrase', { verifier, replace: true });
      expect(replaced.status).toBe(200);
      expect(replaced.body.passphrase.set).toBe(true);
      const { device } = await authenticatedDevice(verifier);
      expect(device.socket.connected).toBe(true);
    });
  });

  describe('handshake', () => {
    it('refuses an unknown token with UNAUTHORIZED in connect_error data', async () => {
      const device = track(FakeDevice.withToken(hive.url, 'not-a-token'));
      const refusal = await device.refusal();
      expect(refusal.data).toEqual({ code: ErrorCode.UNAUTHORIZED, message: expect.any(String) });
    });

    it('refuses another protocol version with PROTOCOL_UNSUPPORTED, even with a valid token', async () => {
      const { token } = await createDevice();
      const device = track(new FakeDevice(hive.url, { protocol: PROTOCOL_VERSION + 1, token, name: 'x', version: '1.0.0' }));
      const refusal = await device.refusal();
      expect(refusal.data).toEqual({ code: ErrorCode.PROTOCOL_UNSUPPORTED, message: expect.any(String) });
    });

    it('refuses malformed auth with UNAUTHORIZED naming the field', async () => {
      const { token } = await createDevice();
      const device = track(new FakeDevice(hive.url, { protocol: PROTOCOL_VERSION, token, name: 'x' }));
      const refusal = await device.refusal();
      expect(refusal.data.code).toBe(ErrorCode.UNAUTHORIZED);
      expect(refusal.data.details).toEqual([{ field: 'version', problems: expect.any(Array) }]);
    });

    it('greets an accepted device with a hello of the protocol shape', async () => {
      const { id, token } = await createDevice();
      const device = track(FakeDevice.withToken(hive.url, token));
      const hello = await device.hello;
      expect(validatePayload(HelloDto, hello)).toMatchObject({ ok: true });
      const account = (await hive.api.get('/api/account')).body;
      expect(hello).toEqual({
        deviceId: id,
        account: account.id,
        passphrase: account.passphrase,
        hive: { version: expect.any(String), time: expect.any(String) },
      });
    });

    it('answers every event before the proof with NOT_AUTHENTICATED and sends it no command', async () => {
      const { id, token } = await createDevice();
      const device = track(FakeDevice.withToken(hive.url, token));
      await device.hello;
      const notAuthenticated = { ok: false, error: { code: ErrorCode.NOT_AUTHENTICATED, message: expect.any(String) } };
      expect(await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()))).toEqual(notAuthenticated);
      expect(await device.emitWithAck(Events.keysGet, { instance: randomUUID() })).toEqual(notAuthenticated);
      expect(await device.emitWithAck('something.else', {})).toEqual(notAuthenticated);

      expect((await hive.api.get(`/api/devices/${id}`)).body).toMatchObject({ online: true, authenticated: false });
      const command = await hive.api.post(`/api/devices/${id}/commands`, { type: CommandType.Info });
      expect(command.status).toBe(409);
      expect(command.body.code).toBe('DEVICE_OFFLINE');
    });

    it('closes the older connection when the same device authenticates again', async () => {
      const verifier = randomVerifier();
      await hive.api.put('/api/account/passphrase', { verifier, replace: true });
      const { id, token, device: older } = await authenticatedDevice(verifier);
      const olderGone = older.disconnected();
      const newer = track(FakeDevice.withToken(hive.url, token, '2.0.0'));
      expect(await newer.prove(verifier)).toEqual({ ok: true });
      await olderGone;
      expect(newer.socket.connected).toBe(true);
      expect((await hive.api.get(`/api/devices/${id}`)).body).toMatchObject({ online: true, authenticated: true, version: '2.0.0' });
    });
  });

  describe('after the proof', () => {
    let verifier: string;

    beforeAll(async () => {
      verifier = randomVerifier();
      expect((await hive.api.put('/api/account/passphrase', { verifier, replace: true })).status).toBe(200);
    });

    it('stores the newest report of each kind and serves it over REST', async () => {
      const { id, device } = await authenticatedDevice(verifier);
      const newer = appsReport('2026-11-25T10:00:01.500Z');
      const older = appsReport('2026-11-25T10:00:01Z');
      expect(await device.emitWithAck(Events.reportApps, newer)).toEqual({ ok: true });
      expect(await device.emitWithAck(Events.reportApps, older)).toEqual({ ok: true });
      const volumes = volumesReport('2026-11-25T10:00:00.000Z');
      expect(await device.emitWithAck(Events.reportVolumes, volumes)).toEqual({ ok: true });

      const reports = await hive.api.get(`/api/devices/${id}/reports`);
      expect(reports.status).toBe(200);
      expect(reports.body).toEqual({
        apps: newer,
        volumes,
        version: null,
        receivedAt: { apps: expect.any(String), volumes: expect.any(String), version: null },
      });
    });

    it('answers an invalid report with INVALID_PARAMS naming the field', async () => {
      const { device } = await authenticatedDevice(verifier);
      const report = { ...appsReport(new Date().toISOString()), extra: 1 };
      report.apps[0].state = 'dancing';
      const ack = await device.emitWithAck(Events.reportApps, report);
      expect(ack.ok).toBe(false);
      expect(ack.error.code).toBe(ErrorCode.INVALID_PARAMS);
      expect(ack.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['apps[0].state', 'extra']);
    });

    it('runs a command round trip through REST: ack, result, stored', async () => {
      const { id, device } = await authenticatedDevice(verifier);
      const received: any[] = [];
      device.onCommand((envelope) => {
        received.push(envelope);
        // The result goes out right after the ack, as a device's intake would send it.
        setImmediate(() =>
          device.socket.emit(Events.commandResult, {
            id: envelope.id,
            type: envelope.type,
            ok: true,
            result: infoResult(),
            finishedAt: new Date().toISOString(),
          }),
        );
        return { id: envelope.id, accepted: true };
      });

      const sent = await hive.api.post(`/api/devices/${id}/commands`, { type: CommandType.Info, params: {} });
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({
        id: received[0].id,
        type: CommandType.Info,
        status: 'succeeded',
        issuedAt: received[0].issuedAt,
        ack: { accepted: true },
        result: infoResult(),
        finishedAt: expect.any(String),
      });
      expect(received[0]).toEqual({ id: expect.any(String), type: CommandType.Info, issuedAt: expect.any(String), params: {} });

      expect((await hive.api.get(`/api/devices/${id}/commands/${sent.body.id}`)).body).toEqual(sent.body);
      const listed = await hive.api.get(`/api/devices/${id}/commands?limit=5`);
      expect(listed.body).toEqual([sent.body]);

      // A result re-sent from the outbox is acknowledged and changes nothing.
      const again = await device.emitWithAck(Events.commandResult, {
        id: sent.body.id,
        type: CommandType.Info,
        ok: false,
        error: { code: 'DOCKER_ERROR', message: 'late and different' },
        finishedAt: new Date().toISOString(),
      });
      expect(again).toEqual({ ok: true });
      expect((await hive.api.get(`/api/devices/${id}/commands/${sent.body.id}`)).body).toEqual(sent.body);
    });

    it('reports a refused command with the device error', async () => {
      const { id, device } = await authenticatedDevice(verifier);
      device.onCommand((envelope) => ({ id: envelope.id, accepted: false, error: { code: 'BUSY', message: 'busy' } }));
      const sent = await hive.api.post(`/api/devices/${id}/commands`, {
        type: CommandType.SchedulerStop,
        params: { instance: randomUUID() },
      });
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({
        status: 'refused',
        ack: { accepted: false, error: { code: 'BUSY', message: 'busy' } },
        error: { code: 'BUSY', message: 'busy' },
      });
    });

    it('answers 202 while a command runs, then records its progress and result', async () => {
      const { id, device } = await authenticatedDevice(verifier);
      device.onCommand((envelope) => ({ id: envelope.id, accepted: true }));
      const sent = await hive.api.post(`/api/devices/${id}/commands`, { type: CommandType.DiskSpace, wait: false });
      expect(sent.status).toBe(202);
      expect(sent.body).toMatchObject({ status: 'accepted', ack: { accepted: true } });

      const progress = { id: sent.body.id, stage: 'measuring', percent: 50 };
      expect(await device.emitWithAck(Events.commandProgress, progress)).toEqual({ ok: true });
      expect((await hive.api.get(`/api/devices/${id}/commands/${sent.body.id}`)).body.progress).toMatchObject({
        stage: 'measuring',
        percent: 50,
      });

      const result = { paths: [{ path: '/', totalBytes: 100, freeBytes: 50, availableBytes: 40 }] };
      const ack = await device.emitWithAck(Events.commandResult, {
        id: sent.body.id,
        type: CommandType.DiskSpace,
        ok: true,
        result,
        finishedAt: '2026-11-25T10:00:00.000Z',
      });
      expect(ack).toEqual({ ok: true });
      const finished = await hive.api.get(`/api/devices/${id}/commands/${sent.body.id}`);
      expect(finished.body).toMatchObject({ status: 'succeeded', result, finishedAt: '2026-11-25T10:00:00.000Z' });
    });

    it('refuses a result that breaks its type contract, and ignores one for an unknown command', async () => {
      const { device } = await authenticatedDevice(verifier);
      const invalid = await device.emitWithAck(Events.commandResult, {
        id: randomUUID(),
        type: CommandType.DiskSpace,
        ok: true,
        result: { paths: 'everywhere' },
        finishedAt: new Date().toISOString(),
      });
      expect(invalid).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_PARAMS, details: [{ field: 'result.paths' }] } });

      const unknown = await device.emitWithAck(Events.commandResult, {
        id: randomUUID(),
        type: CommandType.Info,
        ok: true,
        result: infoResult(),
        finishedAt: new Date().toISOString(),
      });
      expect(unknown).toEqual({ ok: true });
    });

    it('stores keys once per instance: identical again is fine, different ones are KEYS_EXIST', async () => {
      const { device } = await authenticatedDevice(verifier);
      const instance = randomUUID();
      const keys = instanceKeys('first');
      expect(await device.emitWithAck(Events.keysPut, { instance, keys })).toEqual({ ok: true });
      expect(await device.emitWithAck(Events.keysPut, { instance, keys })).toEqual({ ok: true });
      expect(await device.emitWithAck(Events.keysPut, { instance, keys: instanceKeys('second') })).toEqual({
        ok: false,
        error: { code: ErrorCode.KEYS_EXIST, message: expect.any(String) },
      });

      // Another device of the account fetches them, as a failover would.
      const { device: other } = await authenticatedDevice(verifier);
      expect(await other.emitWithAck(Events.keysGet, { instance })).toEqual({ ok: true, keys });
      expect(await other.emitWithAck(Events.keysGet, { instance: randomUUID() })).toEqual({
        ok: false,
        error: { code: ErrorCode.NOT_FOUND, message: expect.any(String) },
      });
    });

    it('revoking a device disconnects it and forgets it', async () => {
      const { id, device } = await authenticatedDevice(verifier);
      const gone = device.disconnected();
      expect((await hive.api.delete(`/api/devices/${id}`)).status).toBe(204);
      await gone;
      expect((await hive.api.get(`/api/devices/${id}`)).status).toBe(404);
    });

    it('names a device created without a name after the name it gives when it proves the passphrase, and never renames a named one', async () => {
      const { id, token } = await createDevice('');
      const device = track(FakeDevice.withToken(hive.url, token));
      await device.connected();
      expect((await hive.api.get(`/api/devices/${id}`)).body.name).toBe('');
      expect(await device.prove(verifier)).toEqual({ ok: true });
      expect((await hive.api.get(`/api/devices/${id}`)).body.name).toBe('test-device');
      const named = await authenticatedDevice(verifier);
      expect((await hive.api.get(`/api/devices/${named.id}`)).body.name).toBe('kitchen');
    });

    it('lists devices with their connection state and version', async () => {
      const { id } = await authenticatedDevice(verifier);
      const listed = await hive.api.get('/api/devices');
      expect(listed.status).toBe(200);
      expect(listed.body.find((d: { id: string }) => d.id === id)).toEqual({
        id,
        name: 'kitchen',
        online: true,
        authenticated: true,
        lastSeenAt: expect.any(String),
        version: '1.2.3',
        createdAt: expect.any(String),
        reportedAt: null,
        health: { state: 'amber', reason: 'Connected and proved; no report yet.' },
      });
      expect(JSON.stringify(listed.body)).not.toContain('token');
    });
  });

  describe('REST API', () => {
    it('serves /api/health without a token', async () => {
      const health = await hive.api.as(null).get('/api/health');
      expect(health).toEqual({ status: 200, body: { ok: true, version: expect.any(String), database: { ok: true } } });
    });

    it('answers 401 without the admin token or with a wrong one', async () => {
      for (const client of [hive.api.as(null), hive.api.as('wrong-token-0123456789')]) {
        const response = await client.get('/api/devices');
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ code: ErrorCode.UNAUTHORIZED, message: expect.any(String) });
      }
    });

    it('answers 400 naming each bad field, unknown fields included', async () => {
      const response = await hive.api.post('/api/devices', { name: 7, colour: 'red' });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        code: ErrorCode.INVALID_PARAMS,
        message: expect.any(String),
        details: expect.arrayContaining([
          { field: 'name', problems: expect.any(Array) },
          { field: 'colour', problems: expect.any(Array) },
        ]),
      });
    });

    it('answers 400 naming the bad command param, and 400 for an unknown type', async () => {
      const { id } = await createDevice();
      const badParams = await hive.api.post(`/api/devices/${id}/commands`, {
        type: CommandType.SchedulerStop,
        params: { instance: 'not-a-uuid' },
      });
      expect(badParams.status).toBe(400);
      expect(badParams.body.details).toEqual([{ field: 'params.instance', problems: expect.any(Array) }]);

      const badType = await hive.api.post(`/api/devices/${id}/commands`, { type: 'Shell.run', params: {} });
      expect(badType.status).toBe(400);
      expect(badType.body.details).toEqual([{ field: 'type', problems: expect.any(Array) }]);
    });

    it('answers 404 with the error shape for an unknown device or command', async () => {
      const unknown = await hive.api.get(`/api/devices/${randomUUID()}`);
      expect(unknown).toEqual({ status: 404, body: { code: ErrorCode.NOT_FOUND, message: expect.any(String) } });
      const { id } = await createDevice();
      expect((await hive.api.get(`/api/devices/${id}/commands/${randomUUID()}`)).status).toBe(404);
      expect((await hive.api.get(`/api/devices/${id}/commands?limit=0`)).body.details).toEqual([
        { field: 'limit', problems: expect.any(Array) },
      ]);
    });

    it('answers malformed JSON and unknown routes with the error shape', async () => {
      const malformed = await hive.api.request('POST', '/api/devices', '{"name":');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ code: ErrorCode.INVALID_PARAMS, message: expect.any(String) });
      const missing = await hive.api.get('/api/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe(ErrorCode.NOT_FOUND);
    });

    it('accepts a command body beyond 100 kB (a large compose file)', async () => {
      const { id } = await createDevice();
      const response = await hive.api.post(`/api/devices/${id}/commands`, {
        type: CommandType.SchedulerStart,
        params: {
          instance: randomUUID(),
          application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
          compose: `services: {}\n# ${'x'.repeat(200 * 1024)}`,
          links: {},
          variables: {},
          failover: false,
        },
      });
      // Valid and within the limit, so it gets as far as the device's absence.
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('DEVICE_OFFLINE');
    });
  });
});
