import { Injectable } from '@nestjs/common';

/**
 * One owner at a time per app instance: a command from Hive or the boot reconcile. Whoever comes
 * second does not wait: a command is refused BUSY, the reconcile leaves the instance to the command.
 */
@Injectable()
export class InstanceLocks {
  private readonly held = new Set<string>();

  /** The function that releases the instance, or undefined when someone else holds it. */
  tryAcquire(instance: string): (() => void) | undefined {
    if (this.held.has(instance)) return undefined;
    this.held.add(instance);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(instance);
    };
  }
}
