import { Injectable, OnModuleDestroy } from '@nestjs/common';

/** A REST caller waiting for one command's result. */
export interface CompletionListener {
  /** Resolves true when the result arrived, false when `timeoutMs` passed or the Hive is stopping. */
  wait(timeoutMs: number): Promise<boolean>;
  stop(): void;
}

/**
 * Wakes REST callers when a command's result arrives. Listening starts before the command is
 * emitted, so a result that overtakes its acknowledgement is not missed.
 */
@Injectable()
export class CommandCompletions implements OnModuleDestroy {
  private readonly listeners = new Map<string, Set<(completed: boolean) => void>>();

  listen(commandId: string): CompletionListener {
    let settle!: (completed: boolean) => void;
    const settled = new Promise<boolean>((resolve) => (settle = resolve));
    const listeners = this.listeners.get(commandId) ?? new Set();
    listeners.add(settle);
    this.listeners.set(commandId, listeners);
    const stop = () => {
      listeners.delete(settle);
      if (listeners.size === 0 && this.listeners.get(commandId) === listeners) this.listeners.delete(commandId);
    };
    return {
      wait: async (timeoutMs) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs))));
        try {
          return await Promise.race([settled, timedOut]);
        } finally {
          clearTimeout(timer);
        }
      },
      stop: () => {
        stop();
        settle(false);
      },
    };
  }

  complete(commandId: string): void {
    const listeners = this.listeners.get(commandId);
    this.listeners.delete(commandId);
    for (const settle of listeners ?? []) settle(true);
  }

  /** Lets waiting REST calls answer (202) instead of holding up shutdown. */
  onModuleDestroy(): void {
    for (const listeners of this.listeners.values()) for (const settle of listeners) settle(false);
    this.listeners.clear();
  }
}
