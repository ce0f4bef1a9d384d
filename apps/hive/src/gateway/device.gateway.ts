import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  CommandProgressDto,
  CommandResultDto,
  DEVICE_NAMESPACE,
  ErrorCode,
  Events,
  KeysGetDto,
  KeysPutDto,
  PassphraseProveDto,
  ProtocolError,
  ReportAppsDto,
  ReportVersionDto,
  ReportVolumesDto,
  describeProblems,
  isPlainObject,
  RETRYABLE_DETAILS,
  protocolError,
  validatePayload,
} from '@mosaic/protocol';
import type { ClassConstructor } from 'class-transformer';
import type { Namespace, Socket } from 'socket.io';
import { AccountService } from '../accounts/account.service';
import { AuthThrottle, ThrottleKey, addressKey } from '../auth/auth-throttle.service';
import { ClusterBus, deviceRoom } from '../cluster/cluster-bus';
import { CommandsService } from '../commands/commands.service';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { HIVE_VERSION } from '../common/hive-version';
import { WriteBatcher, WriteGroup } from '../database/write-batcher';
import { DevicesService } from '../devices/devices.service';
import { InstanceKey } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { StrayCopiesService } from '../moves/stray-copies.service';
import { ReportKind, ReportsService } from '../reports/reports.service';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { DeviceUpgradeService } from '../upgrades/device-upgrade.service';
import { DeviceHandshake } from './device-handshake';
import { SocketDeviceConnection } from './socket-device-connection';

/** Every device → Hive acknowledgement (§1, §2, §3, §4). */
export type Ack = { ok: true; keys?: InstanceKey[]; instances?: string[] } | { ok: false; error: ProtocolError };

/**
 * Room for a report of many volumes with their public keys; socket.io's default is 1 MB. The
 * socket.io server is shared by every gateway on the port and takes the options of the first one
 * Nest sets up, so the Console's gateway names the same limit.
 */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The events a device may send; any other event is answered UNKNOWN_EVENT. */
const INBOUND_EVENTS: ReadonlySet<string> = new Set([
  Events.passphraseProve,
  Events.commandResult,
  Events.commandProgress,
  Events.keysPut,
  Events.keysGet,
  Events.keysList,
  Events.reportApps,
  Events.reportVolumes,
  Events.reportVersion,
]);

interface DeviceSocketData {
  deviceId: string;
  version: string;
  /** The device's own name (DEVICE_NAME or its host name), from the handshake. */
  name: string;
  /** The device's name in the Hive when it connected: empty until it names itself at its first proof. */
  knownName: string;
  connection?: SocketDeviceConnection;
}

const OK: Ack = { ok: true };
const refuse = (code: string, message: string, details?: unknown): Ack => ({
  ok: false,
  error: protocolError(code as ErrorCode, message, details),
});
const notAuthenticated = (event: string): Ack => refuse(ErrorCode.NOT_AUTHENTICATED, `Prove the passphrase before sending ${event}.`);

/**
 * The device side of docs/protocol.md on namespace /device. Each handler validates its payload,
 * hands it to the service that owns it, and always answers the acknowledgement: a bad payload
 * or a failure becomes an error in the ack, never an exception.
 */
@WebSocketGateway({ namespace: DEVICE_NAMESPACE, maxHttpBufferSize: MAX_MESSAGE_BYTES })
export class DeviceGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket> {
  private readonly logger = new Logger('DeviceGateway');
  /** The reports of one batch stored, and their devices counted as seen, at once (one statement on PostgreSQL), not per report. */
  private readonly reportWrites: WriteGroup<{ deviceId: string; kind: ReportKind; report: { at: string } }, boolean> = {
    writeAll: (writes) => this.reports.storeMany(writes),
    atomic: true,
  };

  constructor(
    private readonly handshake: DeviceHandshake,
    private readonly accounts: AccountService,
    private readonly devices: DevicesService,
    private readonly sessions: DeviceSessionRegistry,
    private readonly commands: CommandsService,
    private readonly reports: ReportsService,
    private readonly keys: KeysService,
    private readonly upgrades: DeviceUpgradeService,
    private readonly throttle: AuthThrottle,
    private readonly strays: StrayCopiesService,
    private readonly writes: WriteBatcher,
    private readonly cluster: ClusterBus,
  ) {}

  /** socket.io hands the error's `data` to the device's `connect_error` (§1). */
  afterInit(namespace: Namespace): void {
    this.cluster.attach(namespace);
    namespace.use(async (socket, next) => {
      try {
        const admission = await this.handshake.admit(socket.handshake.auth);
        if (!admission.ok) {
          this.logger.warn(`refused a device connection from ${socket.handshake.address}: ${admission.error.code}`);
          return next(Object.assign(new Error(admission.error.message), { data: admission.error }));
        }
        const data: DeviceSocketData = {
          deviceId: admission.device.id,
          version: admission.auth.version,
          name: admission.auth.name,
          knownName: admission.device.name,
        };
        socket.data = data;
        next();
      } catch (err) {
        this.logger.error(`handshake failed: ${(err as Error).message}`);
        const error = protocolError(
          ErrorCode.INTERNAL,
          isDatabaseUnavailable(err) ? "Hive could not check the handshake: its database is unavailable; reconnect later." : 'Hive could not check the handshake.',
        );
        next(Object.assign(new Error(error.message), { data: error }));
      }
    });
  }

  async handleConnection(socket: Socket): Promise<void> {
    const data = socket.data as DeviceSocketData;
    const connection = new SocketDeviceConnection(socket, data.deviceId, data.version);
    data.connection = connection;
    this.sessions.add(connection);
    socket.onAny((event: string, ...args: unknown[]) => this.answerUnknownEvent(connection, event, args));
    let account: Awaited<ReturnType<AccountService['describe']>>;
    try {
      account = await this.accounts.describe();
    } catch (err) {
      // Without the account there is no hello to send: the device reconnects later.
      this.logger.error(`cannot greet device ${data.deviceId}: ${(err as Error).message}`);
      socket.disconnect(true);
      return;
    }
    socket.emit(Events.hello, {
      deviceId: data.deviceId,
      account: account.id,
      passphrase: account.passphrase,
      hive: { version: HIVE_VERSION, time: new Date().toISOString() },
    });
    this.logger.log(`device ${data.deviceId} connected (version ${data.version}); waiting for its passphrase proof`);
  }

  handleDisconnect(socket: Socket): void {
    const connection = (socket.data as Partial<DeviceSocketData>).connection;
    if (!connection) return;
    const wasAuthenticated = this.sessions.isAuthenticated(connection);
    this.sessions.remove(connection);
    if (wasAuthenticated) {
      this.devices.touch(connection.deviceId).catch((err: Error) => this.logger.warn(`could not record when device ${connection.deviceId} left: ${err.message}`));
    }
    this.logger.log(`device ${connection.deviceId} disconnected`);
  }

  @SubscribeMessage(Events.passphraseProve)
  async prove(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.guard(Events.passphraseProve, async () => {
      const connection = this.connectionOf(socket);
      // Wrong proofs are counted per device and per address; past a limit even a right one waits.
      const keys: ThrottleKey[] = [
        { rule: 'provePerDevice', id: connection.deviceId },
        { rule: 'provePerAddress', id: addressKey(socket.handshake.address) },
      ];
      this.throttle.check(keys, 'passphrase proofs');
      const proof = this.validate(Events.passphraseProve, PassphraseProveDto, body);
      const outcome = await this.accounts.prove(proof.verifier);
      if (outcome === 'mismatched') {
        await this.throttle.failed(keys);
        this.logger.warn(`device ${connection.deviceId} proved a different passphrase`);
        return refuse(ErrorCode.PASSPHRASE_MISMATCH, "The passphrase verifier does not match the account's.");
      }
      const data = socket.data as DeviceSocketData;
      await this.devices.recordAuthenticated(connection.deviceId, connection.version, data.name, data.knownName);
      // Right before the ack: other Hive processes hear of the proof after it, so nothing they send overtakes it.
      this.sessions.authenticate(connection);
      if (!this.sessions.isAuthenticated(connection)) return refuse(ErrorCode.NOT_AUTHENTICATED, 'The connection closed while its proof was checked.');
      // Commands from any Hive process reach the device through its room (cluster/room-device-connection.ts).
      await socket.join(deviceRoom(connection.deviceId));
      this.logger.log(`device ${connection.deviceId} authenticated`);
      return OK;
    });
  }

  @SubscribeMessage(Events.commandResult)
  async commandResult(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.commandResult, async (connection) => {
      await this.commands.recordResult(connection.deviceId, this.validate(Events.commandResult, CommandResultDto, body));
      return OK;
    });
  }

  @SubscribeMessage(Events.commandProgress)
  async commandProgress(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.commandProgress, async (connection) => {
      const progress = this.validate(Events.commandProgress, CommandProgressDto, body);
      if (!(await this.commands.recordProgress(connection.deviceId, progress))) {
        this.logger.warn(`device ${connection.deviceId} sent progress for unknown command ${progress.id}; ignored`);
      }
      return OK;
    });
  }

  /** A device that runs a copy of an app now elsewhere (or removed) is told to stop it (§2.4); the stop follows this ack. */
  @SubscribeMessage(Events.reportApps)
  async reportApps(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.report(socket, Events.reportApps, 'apps', ReportAppsDto, body, (connection, report) =>
      setImmediate(() =>
        this.strays
          .reported(connection.deviceId, connection.version, report.apps)
          .catch((err: Error) => this.logger.error(`stopping stray copies failed: ${err.stack ?? String(err)}`)),
      ),
    );
  }

  @SubscribeMessage(Events.reportVolumes)
  async reportVolumes(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.report(socket, Events.reportVolumes, 'volumes', ReportVolumesDto, body);
  }

  /** A kept report.version may make the Hive send UpgradeCommand.run; it goes out before this ack. */
  @SubscribeMessage(Events.reportVersion)
  async reportVersion(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.reportVersion, async (connection) => {
      const report = this.validate(Events.reportVersion, ReportVersionDto, body);
      if (await this.reports.store(connection.deviceId, 'version', report)) {
        // The command it causes (if any) goes out before this ack; its own ack is not awaited.
        await new Promise<void>((emitted) => {
          this.upgrades
            .versionReported(connection.deviceId, report.version, emitted)
            .catch((err: Error) => this.logger.error(`upgrading device ${connection.deviceId} failed: ${err.stack ?? String(err)}`))
            .finally(emitted);
        });
      }
      return OK;
    });
  }

  @SubscribeMessage(Events.keysPut)
  async keysPut(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.keysPut, async (connection) => {
      const request = this.validate(Events.keysPut, KeysPutDto, body);
      await this.keys.put(request.instance, request.keys, connection.deviceId);
      return OK;
    });
  }

  @SubscribeMessage(Events.keysGet)
  async keysGet(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.keysGet, async () => {
      const request = this.validate(Events.keysGet, KeysGetDto, body);
      return { ok: true, keys: await this.keys.get(request.instance) };
    });
  }

  @SubscribeMessage(Events.keysList)
  async keysList(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    return this.authenticated(socket, Events.keysList, async (connection) => {
      if (!isPlainObject(body) || Object.keys(body).length > 0) {
        return refuse(HiveErrorCode.INVALID_PARAMS, `${Events.keysList} takes an empty object.`, [{ field: '(payload)', problems: ['must be {}'] }]);
      }
      return { ok: true, instances: await this.keys.listAhead(connection.deviceId) };
    });
  }

  /** `afterStored` runs once a report newer than the kept one is committed. */
  private report<T extends { at: string }>(
    socket: Socket,
    event: string,
    kind: ReportKind,
    dto: ClassConstructor<T>,
    body: unknown,
    afterStored?: (connection: SocketDeviceConnection, report: T) => void,
  ): Promise<Ack> {
    return this.guard(event, async () => {
      const connection = this.connectionOf(socket);
      if (!this.sessions.isAuthenticated(connection)) return notAuthenticated(event);
      const report = this.validate(event, dto, body);
      // Batched with the other reports of this turn; the ack leaves once the batch committed.
      const stored = await this.writes.runGrouped(this.reportWrites, { deviceId: connection.deviceId, kind, report });
      if (stored) afterStored?.(connection, report);
      return OK;
    });
  }

  /** Runs `handle` only for a connection that proved the passphrase (§1), and counts the event as a sign of life. */
  private authenticated(socket: Socket, event: string, handle: (connection: SocketDeviceConnection) => Ack | Promise<Ack>): Promise<Ack> {
    return this.guard(event, async () => {
      const connection = this.connectionOf(socket);
      if (!this.sessions.isAuthenticated(connection)) return notAuthenticated(event);
      const ack = await handle(connection);
      await this.devices.touch(connection.deviceId);
      return ack;
    });
  }

  /** Turns anything thrown into an error ack, so every event gets its answer. */
  private async guard(event: string, handle: () => Ack | Promise<Ack>): Promise<Ack> {
    try {
      return await handle();
    } catch (err) {
      if (err instanceof HiveError) return { ok: false, error: err.toJSON() };
      if (isDatabaseUnavailable(err)) {
        // An outage, not a bug (docs/protocol.md §7): retryable, so the device keeps the message and sends it again.
        this.logger.warn(`handling ${event} failed, the database is unavailable: ${(err as Error).message}`);
        return refuse(ErrorCode.INTERNAL, `Hive's database is unavailable; send ${event} again later.`, RETRYABLE_DETAILS);
      }
      this.logger.error(`handling ${event} failed: ${(err as Error).stack ?? String(err)}`);
      return refuse(ErrorCode.INTERNAL, `Hive failed to handle ${event}.`);
    }
  }

  private validate<T extends object>(event: string, dto: ClassConstructor<T>, body: unknown): T {
    const checked = validatePayload(dto, body);
    if (checked.ok) return checked.value;
    throw new HiveError(HiveErrorCode.INVALID_PARAMS, `The ${event} payload is invalid: ${describeProblems(checked.details)}`, checked.details);
  }

  private connectionOf(socket: Socket): SocketDeviceConnection {
    const connection = (socket.data as Partial<DeviceSocketData>).connection;
    if (!connection) throw new Error('the socket has no device connection');
    return connection;
  }

  private answerUnknownEvent(connection: SocketDeviceConnection, event: string, args: unknown[]): void {
    if (INBOUND_EVENTS.has(event)) return;
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') return;
    ack(
      this.sessions.isAuthenticated(connection)
        ? refuse(HiveErrorCode.UNKNOWN_EVENT, `Hive does not handle the event "${String(event).slice(0, 64)}".`)
        : refuse(ErrorCode.NOT_AUTHENTICATED, 'Prove the passphrase first.'),
    );
  }
}
