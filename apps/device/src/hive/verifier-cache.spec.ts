import { VERIFIER_LIMITS, VerifierBudgetError, VerifierCache } from './verifier-cache';

/** A derivation the test settles by hand, recording which salts were derived and how many ran at once. */
class Derivations {
  readonly salts: string[] = [];
  running = 0;
  mostAtOnce = 0;
  private readonly pending: Array<{ salt: string; resolve: (v: string) => void; reject: (e: Error) => void }> = [];

  derive = (salt: string): Promise<string> => {
    this.salts.push(salt);
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    return new Promise<string>((resolve, reject) => this.pending.push({ salt, resolve, reject })).finally(() => this.running--);
  };

  /** Settles the oldest pending derivation once it has started. */
  async settle(outcome: 'ok' | 'fail' = 'ok'): Promise<void> {
    while (this.pending.length === 0) await Promise.resolve();
    const next = this.pending.shift()!;
    if (outcome === 'ok') next.resolve(`verifier-of-${next.salt}`);
    else next.reject(new Error('scrypt failed'));
    await Promise.resolve();
  }
}

describe('VerifierCache', () => {
  let now: number;
  let derivations: Derivations;
  let cache: VerifierCache;

  beforeEach(() => {
    now = 1_000_000;
    derivations = new Derivations();
    cache = new VerifierCache(derivations.derive, () => now);
  });

  async function derived(salt: string): Promise<string> {
    const verifier = cache.get(salt);
    await derivations.settle();
    return verifier;
  }

  it('derives a salt once and hands out the same verifier after', async () => {
    expect(await derived('a')).toBe('verifier-of-a');
    expect(await cache.get('a')).toBe('verifier-of-a');
    expect(derivations.salts).toEqual(['a']);
  });

  it(`keeps ${VERIFIER_LIMITS.kept} salts at most, dropping the least recently used`, async () => {
    for (const salt of ['a', 'b', 'c']) await derived(salt);
    now += VERIFIER_LIMITS.windowMs;
    await derived('d');
    await cache.get('a'); // used again: b is now the oldest
    await derived('e');
    expect(cache.size).toBe(VERIFIER_LIMITS.kept);
    expect(derivations.salts).toEqual(['a', 'b', 'c', 'd', 'e']);
    await cache.get('a');
    await cache.get('e');
    expect(derivations.salts).toHaveLength(5);
    now += VERIFIER_LIMITS.windowMs;
    await derived('b');
    expect(derivations.salts).toEqual(['a', 'b', 'c', 'd', 'e', 'b']);
  });

  it(`derives at most ${VERIFIER_LIMITS.newPerWindow} new salts per ${VERIFIER_LIMITS.windowMs / 60_000} minutes, then refuses until the oldest leaves the window`, async () => {
    for (const salt of ['a', 'b', 'c']) await derived(salt);
    expect(() => cache.get('d')).toThrow(VerifierBudgetError);
    expect(() => cache.get('d')).toThrow('the next verifier is derived in 600 s at the earliest');
    now += VERIFIER_LIMITS.windowMs - 1;
    expect(() => cache.get('d')).toThrow(VerifierBudgetError);
    now += 1;
    expect(await derived('d')).toBe('verifier-of-d');
    expect(derivations.salts).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a Hive cycling salts for a day gets 3 derivations per 10 minutes and a cache of 4', async () => {
    let refused = 0;
    for (let i = 0; i < 1440; i++) {
      now += 60_000;
      try {
        await derived(`salt-${i}`);
      } catch (err) {
        expect(err).toBeInstanceOf(VerifierBudgetError);
        refused++;
      }
    }
    expect(derivations.salts).toHaveLength((1440 / 10) * VERIFIER_LIMITS.newPerWindow);
    expect(refused).toBe(1440 - (1440 / 10) * VERIFIER_LIMITS.newPerWindow);
    expect(cache.size).toBe(VERIFIER_LIMITS.kept);
  });

  it('runs one derivation at a time', async () => {
    const first = cache.get('a');
    const second = cache.get('b');
    await Promise.resolve();
    expect(derivations.running).toBe(1);
    await derivations.settle();
    await derivations.settle();
    expect(await first).toBe('verifier-of-a');
    expect(await second).toBe('verifier-of-b');
    expect(derivations.mostAtOnce).toBe(1);
  });

  it('forgets a failed derivation, so the salt is derived again next time', async () => {
    const failed = cache.get('a');
    await derivations.settle('fail');
    await expect(failed).rejects.toThrow('scrypt failed');
    expect(cache.size).toBe(0);
    expect(await derived('a')).toBe('verifier-of-a');
  });
});
