import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Events, KeysListAnswerDto, describeProblems, validatePayload } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { KeystoreService } from './keystore.service';

/** How often the list is asked again while the link to Hive stays up: apps installed meanwhile. */
export const KEYS_AHEAD_INTERVAL_MS = 10 * 60_000;

/**
 * Keys opened ahead (docs/protocol.md §3, `keys.list`): the keys of the account's apps on other
 * devices, opened before a move or a failover brings one here, so that it does not wait for
 * Argon2. One instance at a time, at most KEYS_AHEAD, after each accepted handshake and every
 * KEYS_AHEAD_INTERVAL_MS. A Hive that does not answer the list is not asked again until the next
 * handshake; keys that do not open are said once and skipped until then. The keys stay in memory
 * only, as any instance's keys do, and those opened ahead are forgotten once the Hive no longer
 * lists them, unless a command asked for them meanwhile.
 */
@Injectable()
export class KeysAheadService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('KeysAhead');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private closed = false;
  /** The Hive did not answer keys.list as §3 says: not asked again until the next handshake. */
  private unanswered = false;
  /** Instances whose keys did not open: not tried again until the next handshake. */
  private readonly failed = new Set<string>();
  /** Instances whose keys this service opened (at most KEYS_AHEAD): forgotten once Hive no longer lists them. */
  private readonly ahead = new Set<string>();

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly keystore: KeystoreService,
    private readonly hive: HiveConnectionService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.keysAhead === 0) return;
    this.hive.onAuthenticated(() => {
      this.unanswered = false;
      this.failed.clear();
      void this.refresh();
    });
    this.timer = setInterval(() => void this.refresh(), KEYS_AHEAD_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** One pass now (a pass under way is joined). Never throws. */
  refresh(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: Error) => this.logger.warn(`opening keys ahead failed: ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    if (this.config.keysAhead === 0 || this.unanswered || this.closed || !this.hive.authenticated) return;
    let answer: unknown;
    try {
      answer = await this.hive.request(Events.keysList, {});
    } catch (err) {
      this.logger.warn(`Hive did not answer ${Events.keysList} (${(err as Error).message}); keys are opened when a command needs them`);
      this.unanswered = true;
      return;
    }
    const checked = validatePayload(KeysListAnswerDto, answer);
    if (!checked.ok) {
      const refusal = (answer as { ok?: unknown; error?: { code?: unknown } } | null)?.error?.code;
      const why = typeof refusal === 'string' ? refusal.slice(0, 64) : describeProblems(checked.details).slice(0, 300);
      this.logger.log(`Hive does not list keys to open ahead (${why}); keys are opened when a command needs them`);
      this.unanswered = true;
      return;
    }
    const listed = checked.value.instances.slice(0, this.config.keysAhead);
    // Keys opened ahead of an app that is gone, or now runs here (a command asked for them), go;
    // so the keys held ahead never pass KEYS_AHEAD, whatever a Hive lists over time.
    const wanted = new Set(listed);
    for (const instance of [...this.ahead]) {
      if (wanted.has(instance)) continue;
      this.ahead.delete(instance);
      if (!this.keystore.neededByCommands(instance)) this.keystore.forget(instance);
    }
    let opened = 0;
    for (const instance of listed) {
      if (this.closed || !this.hive.authenticated) break;
      if (this.keystore.cached(instance) || this.failed.has(instance)) continue;
      try {
        await this.keystore.keysFor(instance, { failover: true, background: true });
        this.ahead.add(instance);
        opened++;
      } catch (err) {
        this.failed.add(instance);
        this.logger.warn(`the keys of instance ${instance} were not opened ahead: ${(err as Error).message}`);
      }
    }
    if (opened > 0) this.logger.log(`opened the keys of ${opened} instance${opened === 1 ? '' : 's'} ahead`);
  }
}
