import { Inject, Injectable } from '@nestjs/common';
import { CommandType, isCommandType } from '@mosaic/protocol';
import { COMMAND_HANDLERS, CommandHandler } from './command-handler';

/** The whitelist: a type reaches a handler only if a handler was registered for it. */
@Injectable()
export class CommandRegistry {
  private readonly byType = new Map<CommandType, CommandHandler>();

  constructor(@Inject(COMMAND_HANDLERS) handlers: CommandHandler[]) {
    for (const handler of handlers) {
      if (this.byType.has(handler.type)) throw new Error(`two handlers for ${handler.type}`);
      this.byType.set(handler.type, handler);
    }
  }

  find(type: unknown): CommandHandler | undefined {
    return isCommandType(type) ? this.byType.get(type) : undefined;
  }

  get types(): CommandType[] {
    return [...this.byType.keys()];
  }
}
