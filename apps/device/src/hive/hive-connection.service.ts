import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  ErrorCode,
  Events,
  FATAL_EXIT_CODE,
  HelloDto,
  OkAckDto,
  PROTOCOL_VERSION,
  commandIdOf,
  describeProblems,
  derivePassphraseVerifier,
  validatePayload,
} from '@mosaic/protocol';
import { StateDocument, StateStore } from '../common/state-store';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { HiveSocket, HiveSocketFactory } from './hive-socket.adapter';
import { ProcessExitAdapter } from './process-exit.adapter';
import { ReconnectBackoff } from './reconnect-backoff';
import { VerifierCache } from './verifier-cache';

export class HiveUnavailableError extends Error {
  constructor(message = 'Hive is not connected') {
    super(message);
  }
}

export type CommandListener = (payload: unknown) => unknown;

const IDENTITY_FILE = 'identity.json';

/** The handshake refusals after which retrying cannot help (§1). */
const FATAL_CODES: Record<string, string> = {
  [ErrorCode.UNAUTHORIZED]: 'Hive refused the device token (UNAUTHORIZED): check DEVICE_TOKEN',
  [ErrorCode.PROTOCOL_UNSUPPORTED]: `Hive does not speak protocol ${PROTOCOL_VERSION} (PROTOCOL_UNSUPPORTED): upgrade the device or Hive`,
  [ErrorCode.PASSPHRASE_MISMATCH]: "Hive refused the passphrase (PASSPHRASE_MISMATCH): DEVICE_PASSPHRASE is not the account's",
};

/**
 * The connection to Hive (§1): connect with the auth object, answer `hello` with the scrypt proof,
 * reconnect with back-off, and end the process on a fatal refusal. Others wait for `authenticated`.
 */
@Injectable()
export class HiveConnectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Hive');
  private readonly backoff: ReconnectBackoff;
  private socket?: HiveSocket;
  private reconnectTimer?: NodeJS.Timeout;
  private closed = false;
  private connectedNow = false;
  private authenticatedNow = false;
  private readonly verifiers: VerifierCache;
  private readonly authenticatedListeners: Array<() => void> = [];
  private commandListener?: CommandListener;
  private readonly identity: StateDocument;
  /** The id Hive gave this device; kept in STATE_DIR so it is known before Hive answers again. */
  deviceId?: string;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly sockets: HiveSocketFactory,
    private readonly processExit: ProcessExitAdapter,
    state: StateStore,
  ) {
    this.backoff = new ReconnectBackoff();
    this.verifiers = new VerifierCache(
      (salt) => derivePassphraseVerifier(config.passphrase.reveal(), salt),
      () => Date.now(),
    );
    this.identity = state.document(IDENTITY_FILE, () => JSON.stringify({ deviceId: this.deviceId }));
    this.deviceId = state.read<{ deviceId?: string }>(IDENTITY_FILE)?.deviceId;
  }

  /** The socket.io link is up (the handshake may still be running). */
  get connected(): boolean {
    return this.connectedNow;
  }

  get authenticated(): boolean {
    return this.authenticatedNow;
  }

  onAuthenticated(listener: () => void): void {
    this.authenticatedListeners.push(listener);
  }

  setCommandListener(listener: CommandListener): void {
    this.commandListener = listener;
  }

  onApplicationBootstrap(): void {
    this.connect();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close();
    this.socket = undefined;
  }

  /** Emits an event that Hive acknowledges; throws HiveUnavailableError when not authenticated. */
  async request(event: string, payload: unknown): Promise<unknown> {
    if (!this.socket || !this.authenticatedNow) throw new HiveUnavailableError();
    try {
      return await this.socket.emitWithAck(event, payload, this.config.hiveAckTimeoutS * 1000);
    } catch (err) {
      throw new HiveUnavailableError(`Hive did not acknowledge ${event}: ${(err as Error).message}`);
    }
  }

  private connect(): void {
    if (this.closed) return;
    const auth = {
      protocol: PROTOCOL_VERSION,
      token: this.config.deviceToken.reveal(),
      name: this.config.deviceName,
      version: DEVICE_VERSION,
    };
    this.logger.log(`connecting to ${this.config.hiveUrl}`);
    const socket = this.sockets.open(this.config.hiveUrl, auth, {
      connected: () => {
        this.connectedNow = true;
        this.logger.log('connected; waiting for hello');
      },
      connectFailed: (message, data) => this.connectFailed(socket, message, data),
      disconnected: (reason) => this.disconnected(socket, reason),
      event: (name, payload, ack) => void this.event(socket, name, payload, ack),
    });
    this.socket = socket;
  }

  private connectFailed(socket: HiveSocket, message: string, data: unknown): void {
    const code = (data as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && FATAL_CODES[code]) return this.fatal(FATAL_CODES[code]);
    this.logger.warn(`cannot reach Hive: ${message}`);
    this.retry(socket);
  }

  private disconnected(socket: HiveSocket, reason: string): void {
    if (socket !== this.socket) return;
    this.connectedNow = false;
    this.authenticatedNow = false;
    if (this.closed) return;
    this.logger.warn(`disconnected from Hive (${reason})`);
    this.retry(socket);
  }

  private retry(socket: HiveSocket): void {
    if (this.closed || socket !== this.socket) return;
    socket.close();
    this.socket = undefined;
    this.connectedNow = false;
    const delay = this.backoff.next();
    this.logger.log(`reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private fatal(line: string): void {
    this.closed = true;
    this.socket?.close();
    this.processExit.exit(FATAL_EXIT_CODE, line);
  }

  private async event(socket: HiveSocket, name: string, payload: unknown, ack?: (r: unknown) => void): Promise<void> {
    if (name === Events.hello) return this.hello(socket, payload);
    if (name === Events.command && ack) {
      if (!this.authenticatedNow || !this.commandListener) {
        ack({
          id: commandIdOf(payload),
          accepted: false,
          error: { code: ErrorCode.NOT_AUTHENTICATED, message: 'The device has not finished its handshake.' },
        });
        return;
      }
      let answer: unknown;
      try {
        answer = await this.commandListener(payload);
      } catch (err) {
        // Hive gets an answer whatever went wrong in here, and the device goes on.
        this.logger.error(`the command intake failed: ${(err as Error).message}`, (err as Error).stack);
        answer = {
          id: commandIdOf(payload),
          accepted: false,
          error: { code: ErrorCode.INTERNAL, message: 'The device could not take the command.' },
        };
      }
      ack(answer);
      return;
    }
    this.logger.debug(`ignored event ${name}`);
  }

  private async hello(socket: HiveSocket, payload: unknown): Promise<void> {
    const hello = validatePayload(HelloDto, payload);
    if (!hello.ok) {
      this.logger.error(`Hive sent a malformed hello: ${describeProblems(hello.details)}`);
      return this.retry(socket);
    }
    if (this.deviceId !== hello.value.deviceId) {
      this.deviceId = hello.value.deviceId;
      this.identity.save();
    }
    let verifier: string;
    try {
      // scrypt costs ~0.3 s and 128 MiB; the cache bounds how often a Hive can make the device pay it.
      verifier = await this.verifiers.get(hello.value.passphrase.salt);
    } catch (err) {
      this.logger.error(`cannot derive the passphrase verifier: ${(err as Error).message}`);
      return this.retry(socket);
    }
    let response: unknown;
    try {
      response = await socket.emitWithAck(Events.passphraseProve, { verifier }, this.config.hiveAckTimeoutS * 1000);
    } catch {
      this.logger.warn('Hive did not answer the passphrase proof');
      return this.retry(socket);
    }
    const ack = validatePayload(OkAckDto, response);
    if (ack.ok && ack.value.ok) {
      if (socket !== this.socket) return;
      this.authenticatedNow = true;
      this.backoff.reset();
      this.logger.log(`authenticated as device ${this.deviceId} (Hive ${hello.value.hive.version})`);
      for (const listener of this.authenticatedListeners) listener();
      return;
    }
    const code = ack.ok ? ack.value.error?.code : undefined;
    if (code === ErrorCode.PASSPHRASE_MISMATCH) return this.fatal(FATAL_CODES[code]);
    this.logger.error(`Hive refused the passphrase proof: ${JSON.stringify(ack.ok ? ack.value.error : ack.details)}`);
    this.retry(socket);
  }
}
