import { PluginConfig } from '../config/plugin-config';
import { ReplicationScheduler } from './replication-scheduler.service';

describe('ReplicationScheduler', () => {
  const config = { replicationIntervalS: 300, retryBaseS: 5, retryMaxS: 60 } as PluginConfig;
  let scheduler: ReplicationScheduler;

  beforeEach(() => {
    jest.useFakeTimers();
    scheduler = new ReplicationScheduler(config);
  });

  afterEach(() => {
    scheduler.beforeApplicationShutdown();
    jest.useRealTimers();
  });

  it('ticks every REPLICATION_INTERVAL_S', () => {
    const tick = jest.fn();
    scheduler.startPeriodic(tick);
    jest.advanceTimersByTime(299_999);
    expect(tick).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(600_000);
    expect(tick).toHaveBeenCalledTimes(3);
  });

  it('backs off exponentially per volume, up to the cap', () => {
    const retry = jest.fn();
    const delays = [1, 2, 3, 4, 5, 6].map(() => scheduler.retryLater('v1', retry));
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(scheduler.retryLater('v2', retry)).toBe(5_000); // each volume has its own count
  });

  it('runs one pending retry per volume, after its delay', () => {
    const retry = jest.fn();
    scheduler.retryLater('v1', retry);
    scheduler.retryLater('v1', retry); // replaces the first: 10 s from now
    jest.advanceTimersByTime(9_999);
    expect(retry).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(retry).toHaveBeenCalledTimes(1);
    expect(scheduler.retryPending('v1')).toBe(false);
  });

  it('starts from the base delay again after a success', () => {
    const retry = jest.fn();
    scheduler.retryLater('v1', retry);
    scheduler.retryLater('v1', retry);
    scheduler.reset('v1');
    jest.advanceTimersByTime(3_600_000);
    expect(retry).not.toHaveBeenCalled();
    expect(scheduler.retryLater('v1', retry)).toBe(5_000);
  });

  it('stops every timer at shutdown', () => {
    const tick = jest.fn();
    const retry = jest.fn();
    scheduler.startPeriodic(tick);
    scheduler.retryLater('v1', retry);
    scheduler.beforeApplicationShutdown();
    scheduler.retryLater('v2', retry);
    jest.advanceTimersByTime(3_600_000);
    expect(tick).not.toHaveBeenCalled();
    expect(retry).not.toHaveBeenCalled();
  });
});
