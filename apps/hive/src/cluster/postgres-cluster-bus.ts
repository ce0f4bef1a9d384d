import { Logger } from '@nestjs/common';
import { createAdapter } from '@socket.io/postgres-adapter';
import { Pool, PoolClient } from 'pg';
import type { Namespace } from 'socket.io';
import type { DeviceConnection } from '../sessions/device-connection';
import { ClusterBus, ClusterEvent, ClusterEvents } from './cluster-bus';
import { RoomDeviceConnection } from './room-device-connection';

/** The table where the adapter keeps messages over PostgreSQL's NOTIFY limit (made by a migration). */
export const CLUSTER_ATTACHMENTS_TABLE = 'socket_io_attachments';
/**
 * The adapter's own pool, apart from the store's: one connection is held for LISTEN, the others
 * send NOTIFY, so a store busy with queries never delays a message between processes, nor the
 * other way round.
 */
export const CLUSTER_POOL_SIZE = 3;
/** Deadlines of the adapter's connections (the brief's rule: a deadline on every outside call). */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 10_000;
/** The adapter's heartbeat between processes: a process silent for the timeout is counted out. */
export const ADAPTER_HEARTBEAT_MS = 2_000;
export const ADAPTER_HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * Hive processes on one PostgreSQL database, joined by `@socket.io/postgres-adapter` (LISTEN/NOTIFY,
 * docs/architecture.md "The Hive cluster"): rooms and emits span the processes, and the bus's
 * messages travel as `serverSideEmit` on the device namespace.
 */
export class PostgresClusterBus extends ClusterBus {
  readonly clustered = true;
  private readonly logger = new Logger('Cluster');
  private readonly pool: Pool;
  private namespace?: Namespace;
  private adapterErrors = 0;
  private closing = false;
  /** The adapter's LISTEN connections, held out of the pool. */
  private readonly listening = new Set<PoolClient>();

  constructor(databaseUrl: string) {
    super();
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: CLUSTER_POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
      application_name: 'mosaic-hive-cluster',
    });
    // A connection the server dropped (a restart): idle ones are replaced by the pool, the LISTEN one by the adapter
    // (it reconnects on 'end'). Without these listeners an 'error' event would end the process.
    this.pool.on('error', (err) => this.logger.warn(`PostgreSQL connection of the cluster lost: ${err.message}`));
    this.pool.on('connect', (client) => client.on('error', (err) => this.logger.warn(`PostgreSQL connection of the cluster failed: ${err.message}`)));
  }

  /** The socket.io adapter for every namespace of this process's server. */
  socketIoAdapter(): ReturnType<typeof createAdapter> {
    return createAdapter(this.adapterPool(), {
      tableName: CLUSTER_ATTACHMENTS_TABLE,
      heartbeatInterval: ADAPTER_HEARTBEAT_MS,
      heartbeatTimeout: ADAPTER_HEARTBEAT_TIMEOUT_MS,
      errorHandler: (err) => this.adapterError(err),
    });
  }

  attach(namespace: Namespace): void {
    this.namespace = namespace;
    for (const event of Object.values(ClusterEvents)) {
      namespace.on(event, (message: unknown) =>
        this.deliver(event, message, (err) => this.logger.error(`handling ${event} failed: ${(err as Error)?.stack ?? String(err)}`)),
      );
    }
  }

  publish(event: ClusterEvent, message: Record<string, unknown>): void {
    this.namespace?.serverSideEmit(event, { ...message, from: this.processId });
  }

  remoteConnection(deviceId: string): DeviceConnection {
    if (!this.namespace) throw new Error('the device gateway is not up yet');
    return new RoomDeviceConnection(this.namespace, deviceId);
  }

  /** After the socket.io server closed (Nest closes it before the shutdown hooks). */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    // A LISTEN connection the adapter (re)connected while it was closing is never released by it.
    for (const client of this.listening) client.release(true);
    this.listening.clear();
    if (!this.pool.ended) await this.pool.end();
  }

  /**
   * The pool as the adapter sees it: `connect` (its LISTEN connection) and `query`. A LISTEN
   * connection that ends goes back to the pool, destroyed. The adapter's reconnection can outlive its close (a connect under way, or one retried every 2 s while
   * PostgreSQL is away): once this process stops, a connect never completes, so no retry is
   * scheduled and no connection is held past the pool's end.
   */
  private adapterPool(): Pool {
    const pool = this.pool;
    const adapterPool = {
      connect: async () => {
        if (this.closing) return new Promise<never>(() => undefined);
        const client = await pool.connect();
        if (this.closing) {
          client.release(true);
          return new Promise<never>(() => undefined);
        }
        this.listening.add(client);
        const release = client.release.bind(client);
        client.release = (err?: Error | boolean) => {
          this.listening.delete(client);
          release(err);
        };
        // The adapter drops a LISTEN connection that ended (PostgreSQL restarted) without releasing it: the pool
        // would count it as in use for ever, and refuse new ones once it had lost as many as it holds.
        client.once('end', () => {
          if (this.listening.has(client)) client.release(true);
        });
        return client;
      },
      query: (text: string, values?: unknown[]) => pool.query(text, values),
    };
    return adapterPool as unknown as Pool;
  }

  /** PostgreSQL unreachable shows as a burst of the same error: logged once, then every hundredth. */
  private adapterError(err: Error): void {
    if (this.adapterErrors++ % 100 === 0) this.logger.warn(`the socket.io adapter failed (${this.adapterErrors} so far): ${err.message}`);
  }
}
