import { Logger } from '@nestjs/common';
import { ProcessExitAdapter } from './process-exit.adapter';

describe('ProcessExitAdapter', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs the line, then exits with the status once the log had a turn to reach stdout', () => {
    jest.useFakeTimers();
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    new ProcessExitAdapter().exit(78, 'Hive refused the device token (UNAUTHORIZED): check DEVICE_TOKEN');
    expect(error).toHaveBeenCalledWith('Hive refused the device token (UNAUTHORIZED): check DEVICE_TOKEN');
    expect(exit).not.toHaveBeenCalled();
    jest.runAllTimers();
    expect(exit).toHaveBeenCalledWith(78);
  });
});
