import { Logger } from '@nestjs/common';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock, TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { StateFileAdapter } from './state-file.adapter';
import { STATE_RETRY_MS, StateStore } from './state-store';

/** A StateFileAdapter whose writes the test lets through, fails, or holds, one by one. */
class ControlledFiles extends StateFileAdapter {
  readonly writes: Array<{ path: string; text: string }> = [];
  failWith?: NodeJS.ErrnoException;
  private held?: () => void;
  hold = false;

  override async write(path: string, text: string): Promise<void> {
    this.writes.push({ path, text });
    if (this.hold) await new Promise<void>((resolve) => (this.held = resolve));
    if (this.failWith) throw this.failWith;
    await super.write(path, text);
  }

  release(): void {
    this.hold = false;
    this.held?.();
  }
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

describe('StateStore', () => {
  const dirs = new TempDirs();
  let stateDir: string;
  let files: ControlledFiles;
  let clock: FakeClock;
  let store: StateStore;
  let logged: { error: jest.SpyInstance; log: jest.SpyInstance };

  beforeEach(() => {
    stateDir = dirs.make();
    files = new ControlledFiles();
    clock = new FakeClock();
    store = new StateStore(deviceConfig({ stateDir }), files, clock.asClock());
    logged = {
      error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
      log: jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined),
    };
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    files.release();
    await store.onApplicationShutdown();
    jest.restoreAllMocks();
    jest.useRealTimers();
    dirs.cleanup();
  });

  it('writes without blocking: save() returns before anything is on disk, flush() once it is', async () => {
    let value = { n: 1 };
    const document = store.document('outbox.json', () => JSON.stringify(value));
    document.save();
    expect(existsSync(join(stateDir, 'outbox.json'))).toBe(false);
    await store.flush();
    expect(JSON.parse(readFileSync(join(stateDir, 'outbox.json'), 'utf8'))).toEqual({ n: 1 });
    value = { n: 2 };
    document.save();
    await document.flushed();
    expect(JSON.parse(readFileSync(join(stateDir, 'outbox.json'), 'utf8'))).toEqual({ n: 2 });
    expect(readdirSync(stateDir)).toEqual(['outbox.json']);
  });

  it('coalesces: while one write runs, any number of saves make one more write, of the newest state', async () => {
    let n = 0;
    const document = store.document('commands.json', () => JSON.stringify({ n }));
    files.hold = true;
    document.save(); // the write in flight holds { n: 0 }
    for (n = 1; n <= 50; n++) document.save();
    n = 50;
    files.release();
    await document.flushed();
    expect(files.writes.map((w) => JSON.parse(w.text))).toEqual([{ n: 0 }, { n: 50 }]);
    expect(JSON.parse(readFileSync(join(stateDir, 'commands.json'), 'utf8'))).toEqual({ n: 50 });
  });

  it('a full disk: one error line per episode, status and since say so, nothing thrown; one line when it writes again', async () => {
    const document = store.document('outbox.json', () => '[]');
    const journal = store.document('commands.json', () => '[]');
    files.failWith = enospc();
    expect(() => document.save()).not.toThrow();
    await store.flush();
    clock.advance(30_000);
    for (let i = 0; i < 5; i++) {
      document.save();
      journal.save();
      await store.flush();
    }
    expect(logged.error).toHaveBeenCalledTimes(1);
    expect(logged.error.mock.calls[0][0]).toMatch(
      new RegExp(`^STATE_DIR ${stateDir} is full \\(ENOSPC: no space left on device, write\\): the device goes on`),
    );
    expect(store.status()).toEqual({ writable: false, error: 'ENOSPC: no space left on device, write', since: '2026-11-25T10:00:00.000Z' });

    files.failWith = undefined;
    document.save();
    await store.flush();
    expect(store.status()).toMatchObject({ writable: false }); // commands.json has not been written yet
    journal.save();
    await store.flush();
    expect(store.status()).toEqual({ writable: true });
    expect(logged.log).toHaveBeenCalledWith(`STATE_DIR ${stateDir} is writable again (after 30 s)`);

    files.failWith = enospc();
    document.save();
    await store.flush();
    expect(logged.error).toHaveBeenCalledTimes(2); // a new episode
  });

  it('names a disk that refuses writes for another reason', async () => {
    files.failWith = Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' });
    store.document('identity.json', () => '{}').save();
    await store.flush();
    expect(logged.error.mock.calls[0][0]).toMatch(
      new RegExp(`^STATE_DIR ${stateDir} cannot be written \\(EROFS: read-only file system, open\\)`),
    );
  });

  it('tries a failed write again by itself, so a freed disk is written without a new save', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const document = store.document('outbox.json', () => '["waiting"]');
    files.failWith = enospc();
    document.save();
    await document.flushed();
    expect(files.writes).toHaveLength(1);
    files.failWith = undefined;
    jest.advanceTimersByTime(STATE_RETRY_MS - 1);
    expect(files.writes).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await document.flushed();
    expect(files.writes).toHaveLength(2);
    expect(store.status()).toEqual({ writable: true });
    expect(JSON.parse(readFileSync(join(stateDir, 'outbox.json'), 'utf8'))).toEqual(['waiting']);
  });

  it('a state that cannot be serialized is a failed write, not a crash', async () => {
    store
      .document('commands.json', () => {
        throw new RangeError('Invalid string length');
      })
      .save();
    await store.flush();
    expect(store.status()).toMatchObject({ writable: false, error: 'Invalid string length' });
  });

  it('reads what an earlier run left, by name under STATE_DIR', async () => {
    store.document('identity.json', () => JSON.stringify({ deviceId: 'd' })).save();
    await store.flush();
    expect(new StateStore(deviceConfig({ stateDir }), new StateFileAdapter(), clock.asClock()).read('identity.json')).toEqual({
      deviceId: 'd',
    });
  });
});
