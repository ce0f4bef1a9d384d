import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  COMMAND_CONTRACT,
  COMMAND_TYPES,
  CommandAckDto,
  CommandEnvelope,
  CommandProgressDto,
  CommandResultDto,
  Events,
  ProtocolError,
  describeProblems,
  isCommandType,
  protocolError,
  validatePayload,
} from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { ChangeFeed } from '../changes/change-feed';
import { ClusterBus, ClusterEvents, LocalClusterBus } from '../cluster/cluster-bus';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { DevicesService } from '../devices/devices.service';
import { HiveMetrics } from '../metrics/hive-metrics';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { CommandCompletions } from './command-completions';
import { CommandAck, CommandRecord, CommandRepository, CommandStatus } from './command.repository';

/** The REST shape of a command. `params` are left out: they may carry link tokens. */
export interface CommandView {
  id: string;
  type: string;
  status: CommandStatus;
  issuedAt: string;
  ack: CommandAck | null;
  result?: Record<string, unknown>;
  error?: ProtocolError;
  finishedAt?: string;
  progress?: { stage: string; percent?: number; message?: string; at: string };
}

export interface SendOptions {
  /** Wait for the result, not only the acknowledgement. */
  wait: boolean;
  /** For the acknowledgement and the result together; the Hive's default when absent. */
  timeoutMs?: number;
  /** Called as the command goes out to the device (not when it is not sent). */
  onEmit?: () => void;
}

export interface SendOutcome {
  command: CommandView;
  /** False while the device still works on it (accepted, no result yet). */
  settled: boolean;
}

export type ResultOutcome = 'recorded' | 'repeated' | 'unknown';

/** What `onSettled` listeners hear: the command ended (`succeeded`, `failed`) or cannot go on as sent (`refused`, `timeout`). */
export interface SettledCommand {
  deviceId: string;
  commandId: string;
  status: CommandStatus;
}

const SETTLED: readonly CommandStatus[] = ['refused', 'succeeded', 'failed', 'timeout'];

export function toCommandView(command: CommandRecord): CommandView {
  const view: CommandView = {
    id: command.id,
    type: command.type,
    status: command.status,
    issuedAt: command.issuedAt,
    ack: command.ack,
  };
  if (command.result) view.result = command.result;
  if (command.error) view.error = command.error;
  if (command.finishedAt) view.finishedAt = command.finishedAt;
  if (command.progress) view.progress = command.progress;
  return view;
}

/**
 * Sends commands (§2) to connected devices and tracks each one to its end. In a cluster of Hive
 * processes a command goes to the device wherever its socket is (DeviceSessionRegistry), and its
 * result, recorded by the process holding the socket, is told to the others: their waiting REST
 * calls answer and their `onSettled` listeners hear it.
 */
@Injectable()
export class CommandsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Commands');
  private readonly settledListeners = new Set<(settled: SettledCommand) => void>();
  private stopHearing?: () => void;

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly commands: CommandRepository,
    private readonly completions: CommandCompletions,
    private readonly devices: DevicesService,
    private readonly sessions: DeviceSessionRegistry,
    private readonly metrics: HiveMetrics,
    private readonly changes: ChangeFeed = new ChangeFeed(),
    private readonly bus: ClusterBus = new LocalClusterBus(),
  ) {}

  onModuleInit(): void {
    if (this.bus.clustered) this.stopHearing = this.bus.subscribe(ClusterEvents.commandSettled, (message) => this.settledElsewhere(message));
  }

  onApplicationShutdown(): void {
    this.stopHearing?.();
  }

  /** Checks, stores and sends a command, then waits for its acknowledgement (and its result when `wait`). */
  async send(deviceId: string, type: unknown, params: unknown, options: SendOptions): Promise<SendOutcome> {
    const command = await this.prepare(deviceId, type, params);
    return this.dispatch(deviceId, command.id, options);
  }

  /**
   * Checks and stores a command for an authenticated device without sending it, so a caller can
   * record the command's id before the device can answer (a move does); `dispatch` sends it.
   * Throws NOT_FOUND, INVALID_PARAMS or DEVICE_OFFLINE, and then stores nothing.
   */
  async prepare(deviceId: string, type: unknown, params: unknown): Promise<CommandView> {
    await this.devices.require(deviceId);
    if (!isCommandType(type)) {
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, `type is not a command type.`, [
        { field: 'type', problems: [`must be one of ${COMMAND_TYPES.join(', ')}`] },
      ]);
    }
    const checked = validatePayload(COMMAND_CONTRACT[type].params, params, 'params');
    if (!checked.ok) {
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, `The params of ${type} are invalid: ${describeProblems(checked.details)}`, checked.details);
    }
    this.requireConnection(deviceId);
    // The device gets the params exactly as given (validated), not a class-transformed copy.
    const record: CommandRecord = {
      id: randomUUID(),
      type,
      issuedAt: new Date().toISOString(),
      params: params as Record<string, unknown>,
      deviceId,
      status: 'sent',
      ack: null,
      result: null,
      error: null,
      progress: null,
      finishedAt: null,
    };
    await this.commands.insert(record);
    this.changes.publish('commands', record.id);
    return toCommandView(record);
  }

  /**
   * Emits a stored command that has no result yet, with its original id, issuedAt and params,
   * and records the acknowledgement. Emitting it again is safe: a device that has the id
   * already answers `duplicate` and re-sends its result (§2 idempotency); one that never got it
   * and finds it too old refuses it EXPIRED. A finished command is not emitted again.
   */
  async dispatch(deviceId: string, commandId: string, options: SendOptions): Promise<SendOutcome> {
    const stored = await this.commands.find(deviceId, commandId);
    if (!stored) throw new HiveError(HiveErrorCode.NOT_FOUND, `Device ${deviceId} has no command ${commandId}.`);
    if (stored.finishedAt !== null) return this.outcome(deviceId, commandId);
    const connection = this.requireConnection(deviceId);

    const timeoutMs = options.timeoutMs ?? this.config.commandTimeoutS * 1000;
    const deadline = Date.now() + timeoutMs;
    const envelope: CommandEnvelope = { id: stored.id, type: stored.type, issuedAt: stored.issuedAt, params: stored.params };
    const completion = options.wait ? this.completions.listen(envelope.id) : undefined;
    try {
      this.logger.log(`sending ${envelope.type} ${envelope.id} to device ${deviceId}${stored.status === 'sent' ? '' : ` again (was ${stored.status})`}`);
      let ack: unknown;
      const sentAt = performance.now();
      try {
        const acknowledged = connection.emitWithAck(Events.command, envelope, timeoutMs);
        options.onEmit?.();
        ack = await acknowledged;
        this.metrics.ackLatency.observe({ type: envelope.type }, (performance.now() - sentAt) / 1000);
      } catch {
        this.logger.warn(`device ${deviceId} did not acknowledge ${envelope.id} within ${timeoutMs} ms`);
        await this.commands.recordAckTimeout(envelope.id);
        this.changes.publish('commands', envelope.id);
        await this.notifySettled(deviceId, envelope.id);
        return this.outcome(deviceId, envelope.id);
      }
      await this.recordAck(envelope.id, ack);
      this.changes.publish('commands', envelope.id);
      const status = (await this.commands.find(deviceId, envelope.id))?.status;
      // A result that overtook the acknowledgement was told about already.
      if (status === 'refused') await this.notifySettled(deviceId, envelope.id);
      if (completion && status === 'accepted') {
        await completion.wait(deadline - Date.now());
      }
      return this.outcome(deviceId, envelope.id);
    } finally {
      completion?.stop();
    }
  }

  /**
   * Calls `listener` whenever a command settles: its result arrived, the device refused it, or
   * no acknowledgement came in time; in a cluster, on whichever process it settled (each
   * process's listeners hear each command once). Returns the function that stops listening.
   * Listeners run inside the code that recorded the outcome: they should only schedule work (a
   * throw is logged).
   */
  onSettled(listener: (settled: SettledCommand) => void): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  /** The command, or undefined when there is none (its device may have been revoked since). */
  async lookup(deviceId: string, commandId: string): Promise<CommandView | undefined> {
    const command = await this.commands.find(deviceId, commandId);
    return command && toCommandView(command);
  }

  async get(deviceId: string, commandId: string): Promise<CommandView> {
    await this.devices.require(deviceId);
    const command = await this.commands.find(deviceId, commandId);
    if (!command) throw new HiveError(HiveErrorCode.NOT_FOUND, `Device ${deviceId} has no command ${commandId}.`);
    return toCommandView(command);
  }

  async list(deviceId: string, limit: number): Promise<CommandView[]> {
    await this.devices.require(deviceId);
    return (await this.commands.listForDevice(deviceId, limit)).map(toCommandView);
  }

  /**
   * Stores a device's `command.result`. Unknown ids (another device's, or forgotten) are
   * ignored; a repeated result changes nothing. Throws INVALID_PARAMS when the result does not
   * match its type's contract.
   */
  async recordResult(deviceId: string, payload: CommandResultDto): Promise<ResultOutcome> {
    if (!isCommandType(payload.type)) {
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, 'type is not a command type.', [
        { field: 'type', problems: [`must be one of ${COMMAND_TYPES.join(', ')}`] },
      ]);
    }
    if (payload.ok) {
      const checked = validatePayload(COMMAND_CONTRACT[payload.type].result, payload.result, 'result');
      if (!checked.ok) {
        throw new HiveError(HiveErrorCode.INVALID_PARAMS, `The result of ${payload.type} is invalid: ${describeProblems(checked.details)}`, checked.details);
      }
    }
    const command = await this.commands.find(deviceId, payload.id);
    if (!command) {
      this.logger.warn(`device ${deviceId} sent a result for unknown command ${payload.id}; ignored`);
      return 'unknown';
    }
    if (command.type !== payload.type) {
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, `Command ${payload.id} is a ${command.type}, not a ${payload.type}.`, [
        { field: 'type', problems: [`must be ${command.type}, the type of command ${payload.id}`] },
      ]);
    }
    const recorded = await this.commands.recordResult(payload.id, {
      status: payload.ok ? 'succeeded' : 'failed',
      result: payload.ok ? (payload.result ?? {}) : null,
      error: payload.ok ? null : (payload.error ?? null),
      finishedAt: payload.finishedAt,
    });
    if (!recorded) return 'repeated';
    this.changes.publish('commands', payload.id);
    this.logger.log(`${payload.type} ${payload.id} on device ${deviceId} ${payload.ok ? 'succeeded' : `failed (${payload.error?.code})`}`);
    this.completions.complete(payload.id);
    await this.notifySettled(deviceId, payload.id);
    return 'recorded';
  }

  /** Keeps the latest `command.progress` of a running command; returns false for an unknown id. */
  async recordProgress(deviceId: string, payload: CommandProgressDto): Promise<boolean> {
    if (!(await this.commands.find(deviceId, payload.id))) return false;
    await this.commands.recordProgress(payload.id, {
      stage: payload.stage,
      ...(payload.percent !== undefined && { percent: payload.percent }),
      ...(payload.message !== undefined && { message: payload.message }),
      at: new Date().toISOString(),
    });
    this.changes.publish('commands', payload.id);
    return true;
  }

  private async recordAck(commandId: string, raw: unknown): Promise<void> {
    const checked = validatePayload(CommandAckDto, raw);
    if (!checked.ok || checked.value.id !== commandId) {
      const details = checked.ok ? [{ field: 'id', problems: [`must be ${commandId}`] }] : checked.details;
      this.logger.warn(`malformed acknowledgement of ${commandId}: ${describeProblems(details)}`);
      const error = protocolError(HiveErrorCode.INTERNAL, 'The device acknowledged with a malformed payload.', details);
      await this.commands.recordAck(commandId, { accepted: false, error }, 'refused', error);
      return;
    }
    const { accepted, duplicate, error } = checked.value;
    if (accepted) {
      await this.commands.recordAck(commandId, duplicate ? { accepted, duplicate } : { accepted }, 'accepted', null);
      return;
    }
    const refusal: ProtocolError = error ?? protocolError(HiveErrorCode.INTERNAL, 'The device refused without saying why.');
    this.logger.warn(`command ${commandId} refused: ${refusal.code}`);
    await this.commands.recordAck(commandId, { accepted, error: refusal }, 'refused', refusal);
  }

  private requireConnection(deviceId: string): DeviceConnection {
    const connection = this.sessions.authenticatedConnection(deviceId);
    if (!connection) {
      throw new HiveError(HiveErrorCode.DEVICE_OFFLINE, `Device ${deviceId} is not connected and authenticated.`);
    }
    return connection;
  }

  /** Tells the listeners when the command's status is a settled one (an accepted command is not). */
  private async notifySettled(deviceId: string, commandId: string): Promise<void> {
    const command = await this.commands.find(deviceId, commandId);
    const status = command?.status;
    if (command === undefined || status === undefined || !SETTLED.includes(status)) return;
    this.metrics.commands.inc({ type: command.type, outcome: status });
    if (status === 'succeeded' || status === 'failed') this.metrics.resultLatency.observe({ type: command.type }, Math.max(0, Date.now() - Date.parse(command.issuedAt)) / 1000);
    this.bus.publish(ClusterEvents.commandSettled, { deviceId, commandId, status });
    this.tellSettled({ deviceId, commandId, status });
  }

  /** A command settled on another process: a REST call waiting here for its result answers, and the listeners here hear it. */
  private settledElsewhere(message: Record<string, unknown>): void {
    const { deviceId, commandId, status } = message;
    if (typeof deviceId !== 'string' || typeof commandId !== 'string' || typeof status !== 'string' || !SETTLED.includes(status as CommandStatus)) {
      this.logger.warn(`a malformed command.settled message from process ${message.from}; ignored`);
      return;
    }
    if (status === 'succeeded' || status === 'failed') this.completions.complete(commandId);
    this.tellSettled({ deviceId, commandId, status: status as CommandStatus });
  }

  private tellSettled(settled: SettledCommand): void {
    for (const listener of [...this.settledListeners]) {
      try {
        listener(settled);
      } catch (err) {
        this.logger.error(`a listener of settled commands failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  private async outcome(deviceId: string, commandId: string): Promise<SendOutcome> {
    const command = await this.commands.find(deviceId, commandId);
    if (!command) throw new HiveError(HiveErrorCode.NOT_FOUND, `Command ${commandId} is gone (was its device revoked?).`);
    return { command: toCommandView(command), settled: SETTLED.includes(command.status) };
  }
}
