import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';

/** The time source, injectable so tests can fix it. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  /** Resolves after `ms` milliseconds. */
  wait(ms: number): Promise<void> {
    return sleep(ms);
  }
}
