import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { ClusterBus } from './cluster-bus';

/** What a gateway's handler answered: an ack's body, or `{ event, data }` to emit instead. */
type HandlerResponse = { event?: string; data?: unknown } | null | undefined;

/**
 * Nest's socket.io adapter, with the bus's adapter (PostgreSQL's, in a cluster) under every
 * namespace, and message handlers bound as plain listeners.
 *
 * Nest binds each `@SubscribeMessage` of each socket as an RxJS pipeline (`fromEvent`, `mergeMap`,
 * `takeUntil` the disconnect): about 30 subscribers and their closures per socket for the device
 * gateway's handlers. With 5,000 devices on a process that is most of the per-device heap the
 * Hive holds (a heap snapshot at 2,000 devices: 64,000 `OperatorSubscriber`s), and the old
 * generation it fills is marked in pauses of up to half a second on a busy machine. Here each
 * handler is one listener on the socket, answering as Nest's binding does: a non-nil result is
 * the ack (unless the handler acks by itself), `{ event, data }` is emitted instead, and a handler
 * that throws is logged, never left to crash the process. A socket's listeners go with it.
 */
export class ClusterIoAdapter extends IoAdapter {
  private readonly messages = new Logger('GatewayMessages');

  constructor(
    app: INestApplicationContext,
    private readonly bus: ClusterBus,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const adapter = this.bus.socketIoAdapter();
    return super.createIOServer(port, { ...options, ...(adapter && { adapter }) } as ServerOptions) as Server;
  }

  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[]): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        // As RxJS's fromEvent hands them to Nest's binding: one argument alone, several as an array.
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args) as { data: unknown; ack?: unknown };
        const answer = (response: HandlerResponse) => {
          if (response === null || response === undefined) return;
          if (response.event) socket.emit(response.event, response.data);
          else if (!isAckHandledManually && typeof ack === 'function') (ack as (body: unknown) => void)(response);
        };
        const failed = (err: unknown) => this.messages.error(`handling ${String(message)} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        try {
          Promise.resolve(callback(data, ack)).then((result: unknown) => {
            if (isObservable(result)) result.subscribe({ next: (value) => answer(value as HandlerResponse), error: failed });
            else answer(result as HandlerResponse);
          }, failed);
        } catch (err) {
          failed(err);
        }
      });
    }
  }
}
