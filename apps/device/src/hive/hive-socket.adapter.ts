import { Injectable } from '@nestjs/common';
import { Socket, io } from 'socket.io-client';
import { DEVICE_NAMESPACE } from '@mosaic/protocol';

export interface HiveSocketHandlers {
  connected(): void;
  /** `data` is the error object Hive attached to a refused connection, if any. */
  connectFailed(message: string, data: unknown): void;
  disconnected(reason: string): void;
  event(name: string, payload: unknown, ack?: (response: unknown) => void): void;
}

/** One live socket to Hive. Reconnecting is the caller's job (the protocol fixes the back-off). */
export interface HiveSocket {
  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  close(): void;
}

/** Thin adapter around socket.io-client: the only file that imports it. */
@Injectable()
export class HiveSocketFactory {
  open(url: string, auth: Record<string, unknown>, handlers: HiveSocketHandlers): HiveSocket {
    const socket: Socket = io(`${url}${DEVICE_NAMESPACE}`, {
      auth,
      reconnection: false,
      transports: ['websocket'],
      timeout: 20_000,
    });
    socket.on('connect', () => handlers.connected());
    socket.on('connect_error', (err: Error & { data?: unknown }) => handlers.connectFailed(err.message, err.data));
    socket.on('disconnect', (reason) => handlers.disconnected(reason));
    socket.onAny((name: string, ...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (r: unknown) => void) : undefined;
      handlers.event(name, args[0], ack);
    });
    return {
      emitWithAck: (event, payload, timeoutMs) => socket.timeout(timeoutMs).emitWithAck(event, payload),
      close: () => {
        socket.removeAllListeners();
        socket.disconnect();
      },
    };
  }
}
