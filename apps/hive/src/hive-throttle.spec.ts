import { ErrorCode, Events } from '@mosaic/protocol';
import { AUTH_THROTTLE_RULES } from './auth/auth-throttle.service';
import { FakeDevice } from './testing/fake-device';
import { randomVerifier } from './testing/fixtures';
import { TEST_ADMIN_TOKEN, TestHive, startTestHive } from './testing/test-hive';

/** Failed authentications are counted per caller; past the limit the caller is refused for a while, right credentials included. */
describe('Hive: failed authentications are rate-limited', () => {
  let hive: TestHive;
  const devices: FakeDevice[] = [];

  // A Hive of each test's own: the limits are per address, and every test comes from 127.0.0.1.
  beforeEach(async () => {
    hive = await startTestHive();
  });

  afterEach(async () => {
    for (const device of devices.splice(0)) device.close();
    await hive.close();
  });

  describe('REST: wrong admin tokens', () => {
    const { limit } = AUTH_THROTTLE_RULES.restPerAddress;

    function get(token: string | null): Promise<Response> {
      return fetch(`${hive.url}/api/devices`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
    }

    it(`answers 401 to ${limit} wrong tokens, then 429 RATE_LIMITED with Retry-After, even to the right token`, async () => {
      for (let i = 0; i < limit; i++) expect((await get(`wrong-token-${i}-0123456789`)).status).toBe(401);
      const limited = await get('wrong-token-again-0123456789');
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({
        code: 'RATE_LIMITED',
        message: expect.stringContaining('admin token'),
        details: { retryAfterSeconds: expect.any(Number) },
      });
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(AUTH_THROTTLE_RULES.restPerAddress.blockMs / 1000 - 5);
      expect(retryAfter).toBeLessThanOrEqual(AUTH_THROTTLE_RULES.restPerAddress.blockMs / 1000);

      const right = await get(TEST_ADMIN_TOKEN);
      expect(right.status).toBe(429);
    });

    it('counts a missing token as a failure too', async () => {
      for (let i = 0; i < limit; i++) expect((await get(null)).status).toBe(401);
      expect((await get(null)).status).toBe(429);
    });

    it('does not count requests with the right token, nor the health check', async () => {
      for (let i = 0; i < limit * 2; i++) expect((await get(TEST_ADMIN_TOKEN)).status).toBe(200);
      for (let i = 0; i < limit - 1; i++) expect((await get('wrong-token-0123456789')).status).toBe(401);
      expect((await fetch(`${hive.url}/api/health`)).status).toBe(200);
      expect((await get(TEST_ADMIN_TOKEN)).status).toBe(200);
    });
  });

  describe('passphrase.prove: wrong verifiers', () => {
    let verifier: string;

    beforeEach(async () => {
      verifier = randomVerifier();
      expect((await hive.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
    });

    async function connectedDevice(name: string, token?: string): Promise<{ id: string; token: string; device: FakeDevice }> {
      const created = token ? { id: '', token } : (await hive.api.post('/api/devices', { name })).body;
      const device = FakeDevice.withToken(hive.url, created.token);
      devices.push(device);
      await device.hello;
      return { id: created.id, token: created.token, device };
    }

    const prove = (device: FakeDevice, value: string) => device.emitWithAck(Events.passphraseProve, { verifier: value });
    const mismatch = { ok: false, error: { code: ErrorCode.PASSPHRASE_MISMATCH, message: expect.any(String) } };
    const limited = {
      ok: false,
      error: { code: 'RATE_LIMITED', message: expect.any(String), details: { retryAfterSeconds: expect.any(Number) } },
    };

    it(`refuses a device after ${AUTH_THROTTLE_RULES.provePerDevice.limit} wrong proofs, the right one included, and not another device`, async () => {
      const { id, token, device } = await connectedDevice('guesser');
      for (let i = 0; i < AUTH_THROTTLE_RULES.provePerDevice.limit; i++) expect(await prove(device, randomVerifier())).toEqual(mismatch);
      expect(await prove(device, verifier)).toEqual(limited);
      expect((await hive.api.get(`/api/devices/${id}`)).body.authenticated).toBe(false);

      // A new connection with the same token is the same device.
      const again = await connectedDevice('guesser', token);
      expect(await prove(again.device, verifier)).toEqual(limited);
      const other = await connectedDevice('honest');
      expect(await prove(other.device, verifier)).toEqual({ ok: true });
    });

    it(`refuses an address after ${AUTH_THROTTLE_RULES.provePerAddress.limit} wrong proofs from any of its devices`, async () => {
      const perDevice = AUTH_THROTTLE_RULES.provePerDevice.limit - 1;
      let wrong = 0;
      for (let d = 0; wrong < AUTH_THROTTLE_RULES.provePerAddress.limit; d++) {
        const { device } = await connectedDevice(`guesser-${d}`);
        for (let i = 0; i < perDevice && wrong < AUTH_THROTTLE_RULES.provePerAddress.limit; i++, wrong++) {
          expect(await prove(device, randomVerifier())).toEqual(mismatch);
        }
      }
      const fresh = await connectedDevice('fresh');
      expect(await prove(fresh.device, verifier)).toEqual(limited);
    });
  });
});
