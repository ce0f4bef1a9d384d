/** A Hive sent more new salts than the device derives verifiers for in a while. */
export class VerifierBudgetError extends Error {}

export interface VerifierLimits {
  /** Salts whose verifier is kept; the least recently used goes first. */
  kept: number;
  /** New derivations allowed per `windowMs`. */
  newPerWindow: number;
  windowMs: number;
}

/** A Hive has one salt, changed only when the passphrase is: this leaves room and no more. */
export const VERIFIER_LIMITS: VerifierLimits = { kept: 4, newPerWindow: 3, windowMs: 10 * 60_000 };

/**
 * The passphrase verifiers of the salts Hive sent in `hello` (§1). Each scrypt run costs ~0.3 s
 * and 128 MiB, so a Hive that sends a new salt every time cannot use the device up: a few are
 * kept, a few new ones are derived per window (more are refused until the window moves on), and
 * only one at a time.
 */
export class VerifierCache {
  private readonly verifiers = new Map<string, Promise<string>>();
  /** When each derivation of the current window started. */
  private started: number[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly derive: (salt: string) => Promise<string>,
    private readonly now: () => number,
    private readonly limits: VerifierLimits = VERIFIER_LIMITS,
  ) {}

  /** The verifier for `salt`; throws VerifierBudgetError when a new salt is over the budget. */
  get(salt: string): Promise<string> {
    const known = this.verifiers.get(salt);
    if (known) {
      // Most recently used last: Map keeps insertion order.
      this.verifiers.delete(salt);
      this.verifiers.set(salt, known);
      return known;
    }
    const now = this.now();
    this.started = this.started.filter((at) => now - at < this.limits.windowMs);
    if (this.started.length >= this.limits.newPerWindow) {
      const waitS = Math.ceil((this.started[0] + this.limits.windowMs - now) / 1000);
      throw new VerifierBudgetError(
        `Hive sent ${this.limits.newPerWindow + 1} new passphrase salts within ${this.limits.windowMs / 60_000} minutes; ` +
          `the next verifier is derived in ${waitS} s at the earliest`,
      );
    }
    this.started.push(now);
    const verifier = this.queue.then(() => this.derive(salt));
    this.queue = verifier.catch(() => undefined);
    verifier.catch(() => {
      if (this.verifiers.get(salt) === verifier) this.verifiers.delete(salt);
    });
    this.verifiers.set(salt, verifier);
    if (this.verifiers.size > this.limits.kept) this.verifiers.delete(this.verifiers.keys().next().value as string);
    return verifier;
  }

  get size(): number {
    return this.verifiers.size;
  }
}
