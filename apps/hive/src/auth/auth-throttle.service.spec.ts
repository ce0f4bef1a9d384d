import { ThrottlerStorageService } from '@nestjs/throttler';
import { HiveError } from '../common/hive-error';
import { AUTH_THROTTLE_RULES, AuthThrottle, ThrottleKey, addressKey } from './auth-throttle.service';

describe('AuthThrottle', () => {
  let storage: ThrottlerStorageService;
  let throttle: AuthThrottle;
  const device: ThrottleKey = { rule: 'provePerDevice', id: 'device-1' };
  const { limit, ttlMs, blockMs } = AUTH_THROTTLE_RULES.provePerDevice;

  beforeEach(() => {
    jest.useFakeTimers();
    storage = new ThrottlerStorageService();
    throttle = new AuthThrottle(storage);
  });

  afterEach(() => {
    storage.onApplicationShutdown();
    jest.useRealTimers();
  });

  function refusal(keys: ThrottleKey[]): HiveError | undefined {
    try {
      throttle.check(keys, 'passphrase proofs');
      return undefined;
    } catch (err) {
      return err as HiveError;
    }
  }

  it(`lets ${limit} failures through, then refuses with RATE_LIMITED and the seconds to wait`, async () => {
    for (let i = 0; i < limit; i++) {
      expect(refusal([device])).toBeUndefined();
      await throttle.failed([device]);
    }
    const refused = refusal([device]);
    expect(refused).toBeInstanceOf(HiveError);
    expect(refused?.toJSON()).toEqual({
      code: 'RATE_LIMITED',
      message: `Too many failed passphrase proofs from here; try again in ${blockMs / 1000} s.`,
      details: { retryAfterSeconds: blockMs / 1000 },
    });
  });

  it('lets the caller try again once the block has passed', async () => {
    for (let i = 0; i < limit; i++) await throttle.failed([device]);
    jest.advanceTimersByTime(blockMs - 1000);
    expect(refusal([device])?.details).toEqual({ retryAfterSeconds: 1 });
    jest.advanceTimersByTime(1000);
    expect(refusal([device])).toBeUndefined();
    await throttle.failed([device]);
    expect(refusal([device])).toBeUndefined();
  });

  it('forgets failures older than the window', async () => {
    for (let i = 0; i < limit - 1; i++) await throttle.failed([device]);
    jest.advanceTimersByTime(ttlMs);
    await throttle.failed([device]);
    expect(refusal([device])).toBeUndefined();
  });

  it('counts each key on its own, and refuses when any of them is blocked', async () => {
    const address: ThrottleKey = { rule: 'provePerAddress', id: addressKey('10.0.0.7') };
    for (let i = 0; i < limit; i++) await throttle.failed([device, address]);
    expect(refusal([{ rule: 'provePerDevice', id: 'device-2' }, address])).toBeUndefined();
    expect(refusal([{ rule: 'provePerDevice', id: 'device-2' }, device])).toBeInstanceOf(HiveError);
  });

  it('counts IPv6 addresses by their /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::2'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
  });
});
