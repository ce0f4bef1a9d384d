import { Inject, Logger, OnModuleDestroy } from '@nestjs/common';
import { OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { ErrorCode, protocolError } from '@mosaic/protocol';
import { Change, ChangeFeed } from '../changes/change-feed';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { ConsoleAuthService } from '../console-auth/console-auth.service';
import { SESSION_COOKIE, readCookie } from '../console-auth/session-cookie';
import { MAX_MESSAGE_BYTES } from '../gateway/device.gateway';

/** The Console's live updates: socket.io namespace /console, same origin as the page. */
export const CONSOLE_NAMESPACE = '/console';
/** Events the Hive sends on it: something changed (refetch it), or the session ended (sign in again). */
export const ConsoleEvents = { change: 'change', sessionEnded: 'session.ended' } as const;

interface ConsoleSocketData {
  sessionIdHash: string;
}

/**
 * Pushes change notices (topic and id, never data) to signed-in Console pages, which then read
 * what changed through the REST API with their session. A connection needs a valid session
 * cookie and, against cross-site WebSocket hijacking, an Origin of this Hive. The browser sends
 * nothing on it: any event it emits is ignored.
 */
@WebSocketGateway({ namespace: CONSOLE_NAMESPACE, maxHttpBufferSize: MAX_MESSAGE_BYTES })
export class ConsoleGateway implements OnGatewayInit<Namespace>, OnModuleDestroy {
  private readonly logger = new Logger('ConsoleGateway');
  private stopListening?: () => void;
  private readonly pending = new Map<string, Change>();
  private flushing: NodeJS.Immediate | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly auth: ConsoleAuthService,
    private readonly changes: ChangeFeed,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use(async (socket, next) => {
      const refuse = (code: ErrorCode, message: string) => next(Object.assign(new Error(message), { data: protocolError(code, message) }));
      try {
        if (!this.sameOrigin(socket)) return refuse(ErrorCode.UNAUTHORIZED, 'The Console connects from the Hive’s own origin only.');
        const cookie = typeof socket.handshake.headers.cookie === 'string' ? socket.handshake.headers.cookie : undefined;
        const session = await this.auth.authenticate(readCookie(cookie, SESSION_COOKIE));
        if (!session) return refuse(ErrorCode.UNAUTHORIZED, 'Sign in to the Console first.');
        (socket.data as ConsoleSocketData) = { sessionIdHash: session.idHash };
        next();
      } catch (err) {
        this.logger.error(`console handshake failed: ${(err as Error).message}`);
        refuse(ErrorCode.INTERNAL, 'The Hive could not check the session.');
      }
    });
    this.stopListening = this.changes.subscribe((change) => this.queue(namespace, change));
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    if (this.flushing) clearImmediate(this.flushing);
  }

  /**
   * Notices are gathered for one event-loop turn and sent once each: a batch of reports changes
   * `devices`/`apps` many times over, and a page refetches a topic once however often it heard it.
   * With no Console connected nothing is kept at all.
   */
  private queue(namespace: Namespace, change: Change): void {
    if (namespace.sockets.size === 0) return;
    this.pending.set(change.id === undefined ? change.topic : `${change.topic}\0${change.id}`, change);
    this.flushing ??= setImmediate(() => {
      this.flushing = undefined;
      const changes = [...this.pending.values()];
      this.pending.clear();
      // One batch after the other, so a page hears the changes in the order they came.
      this.sending = this.sending
        .then(() => this.broadcast(namespace, changes))
        .catch((err: Error) => this.logger.error(`sending changes to the Console failed: ${err.message}`));
    });
  }

  private async broadcast(namespace: Namespace, changes: Change[]): Promise<void> {
    for (const socket of [...namespace.sockets.values()]) {
      // A session that expired or was signed out hears nothing more.
      if (!(await this.auth.isValid((socket.data as ConsoleSocketData).sessionIdHash))) {
        socket.emit(ConsoleEvents.sessionEnded);
        socket.disconnect(true);
        continue;
      }
      for (const change of changes) socket.emit(ConsoleEvents.change, change);
    }
  }

  /** The page's origin is this Hive's: HIVE_PUBLIC_URL, or the Host the browser connected to. */
  private sameOrigin(socket: Socket): boolean {
    const origin = socket.handshake.headers.origin;
    if (typeof origin !== 'string') return false;
    if (this.config.publicUrl !== null && origin === this.config.publicUrl) return true;
    const host = socket.handshake.headers.host;
    return typeof host === 'string' && (origin === `http://${host}` || origin === `https://${host}`);
  }
}
