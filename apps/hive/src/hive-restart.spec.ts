import { CommandType, ErrorCode, Events } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDevice } from './testing/fake-device';
import { infoResult, instanceKeys, randomVerifier } from './testing/fixtures';
import { TestHive, startTestHive } from './testing/test-hive';

/** Everything a household depends on survives a Hive restart on the same database file. */
describe('Hive restart on the same database file', () => {
  let dir: string;
  let dbPath: string;
  const open: Array<{ close(): unknown }> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-'));
    dbPath = join(dir, 'hive.db');
  });

  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<TestHive> {
    const hive = await startTestHive({ dbPath });
    open.push(hive);
    return hive;
  }

  it('keeps the account, devices, tokens, keys and commands; a result sent after the restart is recorded', async () => {
    const verifier = randomVerifier();
    const instance = randomUUID();
    const keys = instanceKeys('kept');

    const before = await start();
    const account = (await before.api.put('/api/account/passphrase', { verifier })).body;
    const { id, token } = (await before.api.post('/api/devices', { name: 'attic' })).body;
    const device = FakeDevice.withToken(before.url, token);
    open.push(device);
    expect(await device.prove(verifier)).toEqual({ ok: true });
    device.onCommand((envelope) => ({ id: envelope.id, accepted: true }));
    expect(await device.emitWithAck(Events.keysPut, { instance, keys })).toEqual({ ok: true });
    const running = await before.api.post(`/api/devices/${id}/commands`, { type: CommandType.Info, wait: false });
    expect(running.status).toBe(202);
    device.close();
    await before.close();

    const after = await start();
    expect((await after.api.get('/api/account')).body).toEqual(account);
    expect((await after.api.get(`/api/devices/${id}`)).body).toMatchObject({
      id,
      name: 'attic',
      online: false,
      authenticated: false,
      version: '1.2.3',
      lastSeenAt: expect.any(String),
    });
    expect((await after.api.get(`/api/devices/${id}/commands/${running.body.id}`)).body.status).toBe('accepted');

    // The same token still works, and the stored verifier still matches.
    const again = FakeDevice.withToken(after.url, token);
    open.push(again);
    expect((await again.hello).passphrase).toEqual({ salt: account.passphrase.salt, set: true });
    expect(await again.prove(verifier)).toEqual({ ok: true });
    expect(await again.emitWithAck(Events.passphraseProve, { verifier: randomVerifier() })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.PASSPHRASE_MISMATCH },
    });

    // The device re-sends the result from its outbox; it lands on the persisted command.
    const resent = await again.emitWithAck(Events.commandResult, {
      id: running.body.id,
      type: CommandType.Info,
      ok: true,
      result: infoResult(),
      finishedAt: '2026-11-25T10:00:00.000Z',
    });
    expect(resent).toEqual({ ok: true });
    expect((await after.api.get(`/api/devices/${id}/commands/${running.body.id}`)).body).toMatchObject({
      status: 'succeeded',
      result: infoResult(),
      finishedAt: '2026-11-25T10:00:00.000Z',
    });
    expect(await again.emitWithAck(Events.keysGet, { instance })).toEqual({ ok: true, keys });
  });
});
