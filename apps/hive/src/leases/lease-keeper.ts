import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LeaseRepository } from './lease.repository';

/** How long a lease lasts without renewal, and how often its holder renews it. */
export interface LeaseTiming {
  ttlMs: number;
  renewMs: number;
}

/** 15 s, renewed every 5 s: a process that dies leaves its work to another within 15 s. */
export const LEASE_TIMING: LeaseTiming = { ttlMs: 15_000, renewMs: 5_000 };

/** Leases expired longer than this are deleted (kept a while for whoever looks into what happened). */
export const EXPIRED_LEASE_RETENTION_MS = 60 * 60_000;
/** How often each process deletes them (one statement; any process may, the result is the same). */
export const EXPIRED_LEASE_CLEANUP_MS = 10 * 60_000;

/** The timing for a TTL: renewed three times per TTL, so one lost renewal costs nothing. */
export function leaseTiming(ttlMs: number = LEASE_TIMING.ttlMs): LeaseTiming {
  return { ttlMs, renewMs: Math.max(1, Math.floor(ttlMs / 3)) };
}

/**
 * The leases this Hive process holds (docs/architecture.md "Work shared between Hive processes").
 * Its owner id is random per boot. It renews what it holds every `renewMs`, in one statement, and
 * counts a lease as held only until `ttlMs` after the start of the last renewal that succeeded,
 * less a margin, by this process's monotonic clock: a process cut off from the database stops
 * acting before the database lets another take its work. A holder asked to hand a lease over
 * hears it at its next renewal (`onHandoffWanted`).
 */
export class LeaseKeeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly owner = randomUUID();
  private readonly logger = new Logger('Leases');
  /** Each held lease and until when (performance.now()) this process may act on it. */
  private readonly held = new Map<string, number>();
  private readonly handoffListeners = new Set<(name: string) => void>();
  private timer?: NodeJS.Timeout;
  private cleanupTimer?: NodeJS.Timeout;
  private renewing = false;
  private closed = false;

  constructor(
    private readonly leases: LeaseRepository,
    readonly timing: LeaseTiming = LEASE_TIMING,
  ) {}

  /** Does this process hold the lease (as far as it can tell without asking the database)? */
  holds(name: string): boolean {
    const until = this.held.get(name);
    return until !== undefined && performance.now() < until;
  }

  /** Takes a free or expired lease, or extends this process's; true when held. */
  async acquire(name: string): Promise<boolean> {
    if (this.closed) return false;
    const started = performance.now();
    if (!(await this.leases.tryAcquire(name, this.owner, this.timing.ttlMs))) return false;
    this.hold(name, started);
    return true;
  }

  /** Tries `acquire` until it succeeds or `timeoutMs` passed (a holder handing the lease over, or its lease expiring). */
  async acquireWithin(name: string, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const pollMs = Math.min(250, Math.max(10, Math.floor(this.timing.renewMs / 4)));
    for (;;) {
      if (await this.acquire(name)) return true;
      if (this.closed || performance.now() + pollMs > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Asks the process that holds the lease to hand it over to this one; false when nobody else holds it. */
  request(name: string): Promise<boolean> {
    return this.leases.request(name, this.owner);
  }

  /** Hands the lease to the process that asked for it; false when nobody asked. Either way this process no longer holds it. */
  async handOver(name: string): Promise<boolean> {
    this.held.delete(name);
    return this.leases.handOver(name, this.owner, this.timing.ttlMs);
  }

  /** Gives the lease up (a failure is logged: the lease then expires by itself). */
  async release(name: string): Promise<void> {
    this.held.delete(name);
    try {
      await this.leases.release(name, this.owner);
    } catch (err) {
      this.logger.warn(`releasing lease ${name} failed (it expires within ${this.timing.ttlMs} ms): ${(err as Error).message}`);
    }
  }

  /** Gives up every lease whose name starts with `prefix`. */
  async releaseAll(prefix = ''): Promise<void> {
    for (const name of [...this.held.keys()]) if (name.startsWith(prefix)) this.held.delete(name);
    try {
      await this.leases.releaseAll(this.owner, prefix);
    } catch (err) {
      this.logger.warn(`releasing leases failed (they expire within ${this.timing.ttlMs} ms): ${(err as Error).message}`);
    }
  }

  /** Calls `listener` with the name of a held lease another process asked for. Returns the function that stops listening. */
  onHandoffWanted(listener: (name: string) => void): () => void {
    this.handoffListeners.add(listener);
    return () => this.handoffListeners.delete(listener);
  }

  /** One renewal of every held lease (the timer's work; exposed for tests and tools). */
  async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    const names = [...this.held.keys()];
    const started = performance.now();
    try {
      const kept = await this.leases.renew(this.owner, names, this.timing.ttlMs);
      const keptNames = new Set(kept.map((lease) => lease.name));
      for (const name of names) {
        if (!this.held.has(name)) continue; // released meanwhile
        if (keptNames.has(name)) this.hold(name, started);
        else {
          this.held.delete(name);
          this.logger.warn(`lease ${name} was lost: another process holds it now`);
        }
      }
      for (const { name, wantedBy } of kept) if (wantedBy !== null && wantedBy !== this.owner && this.held.has(name)) this.wanted(name);
    } catch (err) {
      // Held leases run out by themselves (holds() turns false) unless a later renewal succeeds in time.
      this.logger.warn(`renewing ${names.length} lease(s) failed: ${(err as Error).message}`);
    } finally {
      this.renewing = false;
      if (this.held.size === 0) this.stopTimer();
    }
  }

  /** Names this process's owner id in the log; deletes long-expired leases now and every EXPIRED_LEASE_CLEANUP_MS. */
  onApplicationBootstrap(): void {
    // The id its rows in `leases` carry: what tells which process holds a piece of work.
    this.logger.log(`this process's lease owner id is ${this.owner}`);
    void this.deleteExpired();
    this.cleanupTimer = setInterval(() => void this.deleteExpired(), EXPIRED_LEASE_CLEANUP_MS);
    this.cleanupTimer.unref();
  }

  /** Deletes the leases that expired more than EXPIRED_LEASE_RETENTION_MS ago; a failure is logged (the next pass tries again). */
  async deleteExpired(): Promise<void> {
    if (this.closed) return;
    try {
      const deleted = await this.leases.deleteExpired(EXPIRED_LEASE_RETENTION_MS);
      if (deleted) this.logger.log(`deleted ${deleted} lease(s) expired over ${EXPIRED_LEASE_RETENTION_MS / 60_000} min ago`);
    } catch (err) {
      this.logger.warn(`deleting expired leases failed: ${(err as Error).message}`);
    }
  }

  /** Stops renewing and gives up every lease, before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    clearInterval(this.cleanupTimer);
    if (this.held.size) await this.releaseAll();
  }

  private hold(name: string, renewalStarted: number): void {
    // A margin before the database's expiry: the renewal may have run late in its round trip.
    const margin = Math.min(this.timing.renewMs, Math.floor(this.timing.ttlMs / 4));
    this.held.set(name, renewalStarted + this.timing.ttlMs - margin);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => void this.renew(), this.timing.renewMs);
      this.timer.unref();
    }
  }

  private wanted(name: string): void {
    for (const listener of [...this.handoffListeners]) {
      try {
        listener(name);
      } catch (err) {
        this.logger.error(`a handoff listener failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
