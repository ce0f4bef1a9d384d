// Test support: waiting for a command to reach a status in a Hive's database, on the Hive's own
// change notices (no polling): the Hive records an acknowledgement a little after the device got
// the command, on SQLite and PostgreSQL alike.
import { INestApplication } from '@nestjs/common';
import { ChangeFeed } from '../changes/change-feed';
import { CommandStatus } from '../commands/command.repository';
import { CommandsService } from '../commands/commands.service';

export function commandReaches(app: INestApplication, deviceId: string, commandId: string, status: CommandStatus): Promise<void> {
  const feed = app.get(ChangeFeed);
  const commands = app.get(CommandsService);
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const check = () =>
      commands.lookup(deviceId, commandId).then((command) => {
        if (done || command?.status !== status) return;
        done = true;
        stop();
        resolve();
      }, reject);
    const stop = feed.subscribe((change) => {
      if (change.topic === 'commands' && change.id === commandId) void check();
    });
    void check();
  });
}
