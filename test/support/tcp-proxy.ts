import { AddressInfo, Server, Socket, createServer, connect } from 'node:net';

/**
 * A loopback TCP proxy a test can cut, or stall: the way to make one party's replica store
 * unreachable, or silent, while another party still reaches it.
 */
export class TcpProxy {
  port = 0;
  /** Connections taken since the last stall() and held silent: someone tried the store meanwhile. */
  held = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled = false;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.track(client);
      // A stalled proxy takes the connection and says nothing, as a hung server would.
      if (this.stalled) {
        this.held++;
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.track(upstream);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on('close', () => this.pairs.delete(pair));
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops forwarding in both directions, on open connections and new ones; nothing is closed. */
  stall(): void {
    this.stalled = true;
    this.held = 0;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards new connections again; those open while stalled are closed (their peers gave up on them). */
  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.destroy();
  }

  /** Refuses every connection from now on, and ends those open. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }
}
