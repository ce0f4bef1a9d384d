import { KeyedSerialQueue } from './keyed-serial-queue';

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('KeyedSerialQueue', () => {
  it('runs the tasks of one key one after another, and other keys alongside', async () => {
    const queue = new KeyedSerialQueue();
    const log: string[] = [];
    const first = gate();
    const a1 = queue.run('a', async () => {
      log.push('a1 start');
      await first.opened;
      log.push('a1 end');
    });
    const a2 = queue.run('a', async () => void log.push('a2'));
    const b1 = queue.run('b', async () => void log.push('b1'));
    await b1;
    expect(log).toEqual(['a1 start', 'b1']);
    expect(queue.busy('a')).toBe(true);
    first.open();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await queue.drain();
    expect(queue.busy('a')).toBe(false);
  });

  it('goes on after a failed task, and hands the failure to its caller only', async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('drain waits for what runs and for what is queued meanwhile', async () => {
    const queue = new KeyedSerialQueue();
    const log: string[] = [];
    void queue.run('a', async () => {
      await new Promise((r) => setImmediate(r));
      void queue.run('a', async () => void log.push('queued later'));
      log.push('first');
    });
    await queue.drain();
    expect(log).toEqual(['first', 'queued later']);
  });
});
