import { Injectable, Logger } from '@nestjs/common';

/** Ends the process; injectable so an in-process Device in a test does not end the test runner. */
@Injectable()
export class ProcessExitAdapter {
  private readonly logger = new Logger('Device');

  exit(status: number, line: string): void {
    this.logger.error(line);
    // Let the log line reach stdout before the process goes.
    setImmediate(() => process.exit(status));
  }
}
