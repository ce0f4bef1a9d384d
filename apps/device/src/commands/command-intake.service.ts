import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  COMMAND_CONTRACT,
  CommandEnvelopeDto,
  ErrorCode,
  Events,
  ProtocolError,
  commandIdOf,
  protocolError,
  toProtocolError,
  validatePayload,
} from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { InstanceLocks } from '../common/instance-locks';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { DeviceMetrics, UNKNOWN_COMMAND_TYPE } from '../metrics/device-metrics';
import { CommandContext, CommandHandler } from './command-handler';
import { CommandJournalService, StoredResult } from './command-journal.service';
import { CommandRegistry } from './command-registry';

export type CommandAck = { id: string; accepted: true; duplicate?: true } | { id: string; accepted: false; error: ProtocolError };

/** How far in the future `issuedAt` may be (§2), for clocks that disagree a little. */
const MAX_FUTURE_SKEW_MS = 60_000;

/**
 * §2 command intake: validate, refuse or accept at once, run the handler, report the result.
 * Only a type in the registry can ever run, and only with params its DTO accepted.
 */
@Injectable()
export class CommandIntakeService implements OnModuleInit {
  private readonly logger = new Logger('Commands');
  private readonly running = new Set<Promise<void>>();

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly registry: CommandRegistry,
    private readonly journal: CommandJournalService,
    private readonly outbox: OutboxService,
    private readonly hive: HiveConnectionService,
    private readonly clock: Clock,
    private readonly metrics: DeviceMetrics,
    private readonly locks: InstanceLocks,
  ) {}

  onModuleInit(): void {
    this.hive.setCommandListener((payload) => this.receive(payload));
    for (const { id, type, lock } of this.journal.unfinished) {
      const handler = this.registry.find(type);
      const resumed = handler?.resume?.(id);
      if (handler && resumed) {
        this.logger.log(`resuming ${type} ${id}, which a restart cut off`);
        // Nothing else holds the instance this early in boot; were it held, the resumed work goes on regardless.
        const release = (resumed.lockKey !== undefined && this.locks.tryAcquire(resumed.lockKey)) || (() => undefined);
        this.track(
          handler,
          id,
          this.run(handler, id, release, () => resumed.done),
        );
        continue;
      }
      const result = this.journal.interrupt(id);
      void this.outbox.sendResult(Events.commandResult, id, result);
      if (handler?.interrupted && lock !== undefined) this.clearUp(handler, id, lock);
    }
  }

  /** A cut-off command's handler clears up what it left (holding its lock meanwhile: a new command for it is BUSY). */
  private clearUp(handler: CommandHandler, id: string, lock: string): void {
    const release = this.locks.tryAcquire(lock) || (() => undefined);
    const work = Promise.resolve()
      .then(() => handler.interrupted!(lock))
      .then(() => this.logger.log(`cleared up after ${handler.type} ${id}, which a restart cut off`))
      .catch((err: Error) => this.logger.warn(`clearing up after ${handler.type} ${id}, which a restart cut off: ${err.message}`))
      .finally(release);
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** Resolves when every accepted command has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  receive(payload: unknown): CommandAck {
    const envelope = validatePayload(CommandEnvelopeDto, payload);
    if (!envelope.ok) {
      return this.refuse(
        commandIdOf(payload),
        UNKNOWN_COMMAND_TYPE,
        protocolError(ErrorCode.INVALID_PARAMS, 'The command envelope is malformed.', envelope.details),
      );
    }
    const { id, type, issuedAt, params } = envelope.value;

    const known = this.journal.find(id);
    if (known) {
      this.logger.log(`duplicate ${id}: ${known.result ? 'sending its result again' : 'still running'}`);
      if (known.result) void this.outbox.sendResult(Events.commandResult, id, known.result);
      return { id, accepted: true, duplicate: true };
    }

    const handler = this.registry.find(type);
    if (!handler) {
      return this.refuse(
        id,
        UNKNOWN_COMMAND_TYPE,
        protocolError(ErrorCode.UNKNOWN_COMMAND, `The device does not run commands of type "${type.slice(0, 64)}".`),
      );
    }

    const expired = this.expiry(issuedAt);
    if (expired) return this.refuse(id, handler.type, expired);

    const checked = validatePayload(COMMAND_CONTRACT[handler.type].params, params, 'params');
    if (!checked.ok) {
      return this.refuse(id, handler.type, protocolError(ErrorCode.INVALID_PARAMS, `The params of ${type} are invalid.`, checked.details));
    }

    const refusal = handler.refusal?.();
    if (refusal) return this.refuse(id, handler.type, refusal);

    const lock = handler.lockKey?.(checked.value);
    const release = lock === undefined ? () => undefined : this.locks.tryAcquire(lock);
    if (!release) {
      return this.refuse(
        id,
        handler.type,
        protocolError(ErrorCode.BUSY, 'Another command for the same app instance, or the device bringing it back up, is still running.'),
      );
    }

    this.journal.begin(id, type, lock);
    this.track(
      handler,
      id,
      this.run(handler, id, release, (context) => handler.execute(checked.value, context)),
    );
    this.logger.log(`accepted ${type} ${id}`);
    return { id, accepted: true };
  }

  /** Keeps a running command for idle(); a result that cannot be recorded is logged, never left unhandled. */
  private track(handler: CommandHandler, id: string, run: Promise<void>): void {
    const tracked = run
      .catch((err: Error) => this.logger.error(`${handler.type} ${id}: its result could not be recorded: ${err.message}`, err.stack))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** `type` is a metrics label: a registered type, or UNKNOWN_COMMAND_TYPE for anything else. */
  private refuse(id: string, type: string, error: ProtocolError): CommandAck {
    this.metrics.commandRefused(type, error.code);
    this.logger.warn(`refused command ${id || '(no id)'}: ${error.code} ${error.message}`);
    return { id, accepted: false, error };
  }

  private expiry(issuedAt: string): ProtocolError | undefined {
    const age = this.clock.now().getTime() - Date.parse(issuedAt);
    if (age > this.config.commandMaxAgeS * 1000) {
      return protocolError(
        ErrorCode.EXPIRED,
        `The command was issued ${Math.round(age / 1000)} s ago; the limit is ${this.config.commandMaxAgeS} s.`,
      );
    }
    if (age < -MAX_FUTURE_SKEW_MS) {
      return protocolError(ErrorCode.EXPIRED, `The command was issued ${Math.round(-age / 1000)} s in the future; check the clocks.`);
    }
    return undefined;
  }

  /** Holds the instance (`release` frees it) while `work` runs, then stores and sends the result. */
  private async run(
    handler: CommandHandler,
    id: string,
    release: () => void,
    work: (context: CommandContext) => Promise<object>,
  ): Promise<void> {
    const context: CommandContext = {
      id,
      progress: (stage, percent, message) =>
        void this.hive
          .request(Events.commandProgress, { id, stage, ...(percent === undefined ? {} : { percent }), ...(message ? { message } : {}) })
          .catch(() => undefined), // progress is best effort; the result is what counts
    };
    let stored: StoredResult;
    let outcome = 'ok';
    const started = process.hrtime.bigint();
    try {
      const result = await work(context);
      stored = { id, type: handler.type, ok: true, result, finishedAt: this.clock.now().toISOString() };
      this.logger.log(`${handler.type} ${id} succeeded`);
    } catch (err) {
      const error = toProtocolError(err);
      outcome = error.code;
      if (error.code === ErrorCode.INTERNAL) this.logger.error(`${handler.type} ${id} failed unexpectedly`, (err as Error).stack);
      else this.logger.warn(`${handler.type} ${id} failed: ${error.code} ${error.message}`);
      stored = { id, type: handler.type, ok: false, error, finishedAt: this.clock.now().toISOString() };
    } finally {
      // The instance is free as soon as the work is done, before Hive hears of it.
      release();
    }
    this.metrics.commandFinished(handler.type, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    this.journal.finish(stored);
    await this.outbox.sendResult(Events.commandResult, id, stored);
  }
}
