/** docs/protocol.md §1: 1 s doubling to at most 60 s, each delay ±50 % at random. */
export class ReconnectBackoff {
  static readonly BASE_MS = 1000;
  static readonly MAX_MS = 60_000;
  private attempt = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** The delay before the next attempt; each call counts as one more failed attempt. */
  next(): number {
    const base = Math.min(ReconnectBackoff.BASE_MS * 2 ** this.attempt, ReconnectBackoff.MAX_MS);
    if (base < ReconnectBackoff.MAX_MS) this.attempt++;
    const jitter = 0.5 + this.random(); // 0.5 .. 1.5
    // "at most 60 s" holds for the delay itself, jitter included.
    return Math.round(Math.min(base * jitter, ReconnectBackoff.MAX_MS));
  }

  reset(): void {
    this.attempt = 0;
  }
}
