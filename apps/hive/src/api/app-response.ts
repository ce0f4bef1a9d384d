import { HttpStatus } from '@nestjs/common';
import { AppOutcome } from '../apps/apps.service';
import { CommandView } from '../commands/commands.service';

/** The part of the framework's response object the app controllers use. */
export interface StatusSettable {
  status(code: number): unknown;
}

export type AppResponse = Omit<AppOutcome, 'settled'>;
export type AppCommandResponse = { instance: string; command: CommandView };

/** 200 when the command settled, 202 while the device still works on it (poll GET /api/apps/:instance). */
export function answer<T extends { settled: boolean }>(outcome: T, response: StatusSettable): Omit<T, 'settled'> {
  const { settled, ...body } = outcome;
  response.status(settled ? HttpStatus.OK : HttpStatus.ACCEPTED);
  return body;
}
