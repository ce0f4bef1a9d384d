import { COMMAND_TYPES, CommandType } from '@mosaic/protocol';
import { CommandHandler } from './command-handler';
import { CommandRegistry } from './command-registry';

const handler = (type: CommandType): CommandHandler => ({ type, execute: async () => ({}) });

describe('CommandRegistry', () => {
  it('finds each registered handler by its type', () => {
    const info = handler(CommandType.Info);
    const disk = handler(CommandType.DiskSpace);
    const registry = new CommandRegistry([info, disk]);
    expect(registry.find(CommandType.Info)).toBe(info);
    expect(registry.find(CommandType.DiskSpace)).toBe(disk);
    expect(registry.types).toEqual([CommandType.Info, CommandType.DiskSpace]);
  });

  it('refuses two handlers for the same type', () => {
    expect(() => new CommandRegistry([handler(CommandType.Info), handler(CommandType.DiskSpace), handler(CommandType.Info)])).toThrow(
      'two handlers for SystemCommand.info',
    );
  });

  it('finds nothing for a protocol type without a handler', () => {
    const registry = new CommandRegistry([handler(CommandType.Info)]);
    for (const type of COMMAND_TYPES.filter((t) => t !== CommandType.Info)) expect(registry.find(type)).toBeUndefined();
  });

  it.each([['Shell.exec'], ['toString'], ['__proto__'], [''], [42], [null], [undefined], [{}]])('finds nothing for %p', (type) => {
    const registry = new CommandRegistry(COMMAND_TYPES.map(handler));
    expect(registry.find(type)).toBeUndefined();
  });

  it('refuses a handler whose type is outside the protocol', () => {
    const rogue = { type: 'Shell.exec', execute: async () => ({}) } as unknown as CommandHandler;
    const registry = new CommandRegistry([rogue]);
    expect(registry.find('Shell.exec')).toBeUndefined();
  });
});
