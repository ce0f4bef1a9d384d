import { Injectable } from '@nestjs/common';

/** The time source of the services that keep time (moves, upgrades), injectable so tests can fix it. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
