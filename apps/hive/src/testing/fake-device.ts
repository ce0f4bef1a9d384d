// Test support: a device made of a raw socket.io-client socket, driven step by step by a test.
import { DEVICE_NAMESPACE, Events, PROTOCOL_VERSION } from '@mosaic/protocol';
import { Socket, io } from 'socket.io-client';

export interface DeviceAuth {
  protocol?: unknown;
  token?: unknown;
  name?: unknown;
  version?: unknown;
  [extra: string]: unknown;
}

export const ACK_TIMEOUT_MS = 5000;

export class FakeDevice {
  readonly socket: Socket;
  /** The first `hello`, captured from the moment the socket exists. */
  readonly hello: Promise<any>;

  constructor(hiveUrl: string, auth: DeviceAuth) {
    this.socket = io(`${hiveUrl}${DEVICE_NAMESPACE}`, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.hello = this.next(Events.hello);
  }

  /** A device that speaks protocol 1 with this token. */
  static withToken(hiveUrl: string, token: string, version = '1.2.3'): FakeDevice {
    return new FakeDevice(hiveUrl, { protocol: PROTOCOL_VERSION, token, name: 'test-device', version });
  }

  /** Resolves on `connect`, rejects with the refusal on `connect_error`. */
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (err) => reject(err));
    });
  }

  /** The `connect_error` the Hive refused this connection with; rejects if it was accepted instead. */
  refusal(): Promise<Error & { data?: any }> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect_error', (err) => resolve(err as Error & { data?: any }));
      this.socket.once('connect', () => reject(new Error('the Hive accepted the connection')));
    });
  }

  next(event: string): Promise<any> {
    return new Promise((resolve) => this.socket.once(event, (payload: unknown) => resolve(payload)));
  }

  disconnected(): Promise<string> {
    return new Promise((resolve) => {
      if (this.socket.disconnected && !this.socket.active) return resolve('already disconnected');
      this.socket.once('disconnect', (reason) => resolve(reason));
    });
  }

  emitWithAck(event: string, payload?: unknown): Promise<any> {
    return this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  }

  /** Waits for hello, then proves the verifier; returns the ack. */
  async prove(verifier: string): Promise<any> {
    await this.hello;
    return this.emitWithAck(Events.passphraseProve, { verifier });
  }

  /** Answers every `command` with `answer(envelope)` as its acknowledgement. */
  onCommand(answer: (envelope: any) => unknown): void {
    this.socket.on(Events.command, (envelope: unknown, ack: (response: unknown) => void) => ack(answer(envelope)));
  }

  close(): void {
    this.socket.disconnect();
  }
}
