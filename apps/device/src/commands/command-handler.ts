import { CommandType, ProtocolError } from '@mosaic/protocol';

/** What a running command may tell Hive on the way (§2 `command.progress`). */
export interface CommandContext {
  id: string;
  progress(stage: string, percent?: number, message?: string): void;
}

/**
 * A command is a class: one handler per whitelisted type. Its params arrive already validated
 * by the type's DTO from the protocol library.
 */
export interface CommandHandler<P = unknown, R extends object = object> {
  readonly type: CommandType;
  /** Commands with the same lock key never run at once (BUSY); none means no lock. */
  lockKey?(params: P): string | undefined;
  /** A reason the device's configuration turns this type off (NOT_ALLOWED), or undefined. */
  refusal?(): ProtocolError | undefined;
  execute(params: P, context: CommandContext): Promise<R>;
  /**
   * Takes over a command of this type that a restart cut off, when the handler can finish it
   * (UpgradeCommand.run: the device was replaced while it ran); undefined ends it INTERNAL.
   */
  resume?(id: string): ResumedCommand<R> | undefined;
  /**
   * Clears up after a command of this type that a restart cut off and that ends INTERNAL (what it
   * left half done outside the device: SchedulerAction.prepare's stage). `lock` is the lock it held
   * (its instance), held again while this runs. Best effort: a failure is logged.
   */
  interrupted?(lock: string): Promise<void>;
}

/** A command a restart cut off that its handler takes over: it holds `lockKey` until `done` settles. */
export interface ResumedCommand<R extends object = object> {
  lockKey?: string;
  done: Promise<R>;
}

export const COMMAND_HANDLERS = Symbol('COMMAND_HANDLERS');
