import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { ClusterBus } from './cluster-bus';
import { PostgresClusterBus } from './postgres-cluster-bus';

/** Nest's socket.io adapter, with the PostgreSQL adapter under every namespace when the Hive runs as a cluster. */
export class ClusterIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly bus: ClusterBus,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const clustered = this.bus instanceof PostgresClusterBus ? { adapter: this.bus.socketIoAdapter() } : {};
    return super.createIOServer(port, { ...options, ...clustered } as ServerOptions) as Server;
  }
}
