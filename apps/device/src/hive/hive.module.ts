import { Module } from '@nestjs/common';
import { HiveConnectionService } from './hive-connection.service';
import { HiveSocketFactory } from './hive-socket.adapter';
import { OutboxService } from './outbox.service';
import { ProcessExitAdapter } from './process-exit.adapter';

/** The socket.io link to Hive: handshake, back-off, the outbox. */
@Module({
  providers: [HiveSocketFactory, ProcessExitAdapter, HiveConnectionService, OutboxService],
  exports: [HiveConnectionService, OutboxService],
})
export class HiveModule {}
