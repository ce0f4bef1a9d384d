import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { ClusterBus } from './cluster-bus';

/** Nest's socket.io adapter, with the bus's adapter (PostgreSQL's, in a cluster) under every namespace. */
export class ClusterIoAdapter extends IoAdapter {
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
}
