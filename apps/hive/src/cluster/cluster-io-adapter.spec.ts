import { Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { EventEmitter } from 'node:events';
import { of } from 'rxjs';
import type { Socket } from 'socket.io';
import { ClusterIoAdapter } from './cluster-io-adapter';
import { ClusterBus } from './cluster-bus';

/** A socket as far as the binding uses it: listeners for the client's messages, and what it emits to the client. */
class FakeSocket extends EventEmitter {
  readonly sent: Array<[string | symbol, unknown]> = [];
  /** socket.emit sends to the client: recorded, never delivered to the listeners. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    this.sent.push([event, args[0]]);
    return true;
  }
  /** A message from the client, with an ack callback as socket.io passes it. */
  receive(message: string, data: unknown): Promise<unknown> {
    return new Promise((acked) => super.emit(message, data, acked));
  }
}

describe('ClusterIoAdapter message binding', () => {
  const errors: string[] = [];
  let adapter: ClusterIoAdapter;
  let socket: FakeSocket;
  const bind = (handlers: Array<Partial<MessageMappingProperties> & Pick<MessageMappingProperties, 'message' | 'callback'>>) =>
    adapter.bindMessageHandlers(socket as unknown as Socket, handlers.map((h) => ({ methodName: String(h.message), isAckHandledManually: false, ...h })));
  const settled = () => new Promise((next) => setImmediate(next));

  beforeEach(() => {
    errors.length = 0;
    Logger.overrideLogger({ log() {}, warn() {}, debug() {}, verbose() {}, error: (message: unknown) => errors.push(String(message)) });
    adapter = new ClusterIoAdapter(undefined as never, { socketIoAdapter: () => undefined } as unknown as ClusterBus);
    socket = new FakeSocket();
  });
  afterAll(() => Logger.overrideLogger(false));

  it('binds each handler as one listener and acks with what it answered: a value, a promise or an observable', async () => {
    bind([
      { message: 'm:sync', callback: (data: unknown) => ({ ok: true, got: data }) as never },
      { message: 'm:async', callback: async (data: unknown) => ({ ok: true, later: data }) },
      { message: 'm:observable', callback: () => of({ ok: true, from: 'observable' }) },
    ]);
    expect(['m:sync', 'm:async', 'm:observable'].map((m) => socket.listenerCount(m))).toEqual([1, 1, 1]);
    await expect(socket.receive('m:sync', 1)).resolves.toEqual({ ok: true, got: 1 });
    await expect(socket.receive('m:async', 2)).resolves.toEqual({ ok: true, later: 2 });
    await expect(socket.receive('m:observable', 3)).resolves.toEqual({ ok: true, from: 'observable' });
  });

  it('hands a message without an ack its data alone, and one with several arguments all of them', async () => {
    const got: unknown[] = [];
    bind([{ message: 'm:data', callback: async (data: unknown) => void got.push(data) }]);
    socket.listeners('m:data')[0]({ n: 1 });
    socket.listeners('m:data')[0]('a', 'b', (body: unknown) => got.push(body));
    socket.listeners('m:data')[0]('x', 'y');
    await settled();
    expect(got).toEqual([{ n: 1 }, ['a', 'b'], ['x', 'y']]);
  });

  it('emits { event, data } instead of acking, sends nothing for a nil answer, and leaves the ack to a handler that takes it itself', async () => {
    const acks: unknown[] = [];
    bind([
      { message: 'm:event', callback: async () => ({ event: 'notice', data: { n: 1 } }) },
      { message: 'm:nothing', callback: async () => undefined },
      { message: 'm:manual', isAckHandledManually: true, callback: async () => ({ ok: true }) },
    ]);
    for (const m of ['m:event', 'm:nothing', 'm:manual']) socket.listeners(m)[0]({}, (body: unknown) => acks.push(body));
    await settled();
    expect(socket.sent).toEqual([['notice', { n: 1 }]]);
    expect(acks).toEqual([]);
  });

  it('logs a handler that throws or rejects, answers no ack for it, and keeps serving the socket', async () => {
    const acks: unknown[] = [];
    bind([
      {
        message: 'm:throws',
        callback: () => {
          throw new Error('sync boom');
        },
      },
      { message: 'm:rejects', callback: async () => Promise.reject(new Error('async boom')) },
      { message: 'm:ok', callback: async () => ({ ok: true }) },
    ]);
    socket.listeners('m:throws')[0]({}, (body: unknown) => acks.push(body));
    socket.listeners('m:rejects')[0]({}, (body: unknown) => acks.push(body));
    await settled();
    expect(acks).toEqual([]);
    expect(errors).toEqual([expect.stringContaining('handling m:throws failed: Error: sync boom'), expect.stringContaining('handling m:rejects failed: Error: async boom')]);
    await expect(socket.receive('m:ok', {})).resolves.toEqual({ ok: true });
  });
});
