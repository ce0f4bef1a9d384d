import { Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { eventually } from '../../../../test/support/eventually';
import { LeaseKeeper } from './lease-keeper';
import { LeaseRepository } from './lease.repository';

const A = 'owner-a';
const B = 'owner-b';
const MINUTE = 60_000;

/** Leases on both stores (the `postgres` jest project runs this file again on PostgreSQL). */
describe('LeaseRepository', () => {
  let db: HiveDatabase;
  let leases: LeaseRepository;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));
  beforeEach(async () => {
    db = await openTestDatabase();
    leases = new LeaseRepository(db);
  });
  afterEach(async () => {
    jest.useRealTimers();
    await db.close();
  });

  it('gives a free lease to one owner; the other is refused until it is released', async () => {
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(true);
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(false);
    // The holder taking it again extends it.
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(true);
    expect(await leases.holder('move:1')).toEqual({ owner: A, live: true, wantedBy: null });
    // Another name is another lease.
    expect(await leases.tryAcquire('move:2', B, MINUTE)).toBe(true);

    expect(await leases.release('move:1', B)).toBe(false);
    expect(await leases.holder('move:1')).toMatchObject({ owner: A });
    expect(await leases.release('move:1', A)).toBe(true);
    expect(await leases.holder('move:1')).toBeUndefined();
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(true);
  });

  it('lets two owners racing for one free lease both ask: exactly one gets it', async () => {
    const got = await Promise.all([A, B, 'owner-c', 'owner-d'].map((owner) => leases.tryAcquire('upgrade:dev', owner, MINUTE)));
    expect(got.filter(Boolean)).toHaveLength(1);
  });

  it('renews only what the owner still holds', async () => {
    await leases.tryAcquire('move:1', A, MINUTE);
    await leases.tryAcquire('move:2', B, MINUTE);
    expect(await leases.renew(A, ['move:1', 'move:2', 'move:3'], MINUTE)).toEqual([{ name: 'move:1', wantedBy: null }]);
    expect(await leases.renew(B, ['move:1'], MINUTE)).toEqual([]);
    expect(await leases.renew(A, [], MINUTE)).toEqual([]);
  });

  it('lets another owner take a lease its holder let expire; the old holder can then neither renew nor take it back', async () => {
    // A TTL of 0 has expired by the next statement: no waiting.
    expect(await leases.tryAcquire('move:1', A, 0)).toBe(true);
    expect(await leases.holder('move:1')).toMatchObject({ owner: A, live: false });
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(true);
    expect(await leases.renew(A, ['move:1'], MINUTE)).toEqual([]);
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(false);
    expect(await leases.release('move:1', A)).toBe(false);
    expect(await leases.holder('move:1')).toEqual({ owner: B, live: true, wantedBy: null });
  });

  it('keeps a lease its holder does not renew until the TTL ran out, by the database clock', async () => {
    expect(await leases.tryAcquire('move:1', A, 1_500)).toBe(true);
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(false);
    await eventually('B takes the expired lease', () => leases.tryAcquire('move:1', B, MINUTE), (got) => got, 10_000);
    expect(await leases.holder('move:1')).toMatchObject({ owner: B, live: true });
  });

  it("reads only the database's clock: a process whose clock is an hour behind still cannot take a live lease, nor hold one past its TTL", async () => {
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(true);
    // This process's clock an hour behind: had the lease used it, A's expiry would look an hour away, or B's would be long past.
    jest.useFakeTimers({ now: Date.now() - 60 * MINUTE, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'performance', 'hrtime'] });
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(false);
    expect(await leases.tryAcquire('move:2', B, 0)).toBe(true);
    expect(await leases.tryAcquire('move:2', A, MINUTE)).toBe(true);
    jest.useRealTimers();
    // The stored expiry is the database's now plus the TTL.
    const { rows } = await (db.kind === 'postgres'
      ? sql<{ left: number }>`SELECT expires_ms - (extract(epoch from clock_timestamp()) * 1000)::bigint AS left FROM leases WHERE name = 'move:1'`
      : sql<{ left: number }>`SELECT expires_ms - CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS left FROM leases WHERE name = 'move:1'`
    ).execute(db.q);
    expect(Number(rows[0].left)).toBeGreaterThan(MINUTE - 10_000);
    expect(Number(rows[0].left)).toBeLessThanOrEqual(MINUTE);
  });

  it('hands a lease over to the owner that asked for it, only when asked', async () => {
    expect(await leases.request('move:1', B)).toBe(false); // nobody holds it
    await leases.tryAcquire('move:1', A, MINUTE);
    expect(await leases.request('move:1', A)).toBe(false); // its own
    expect(await leases.handOver('move:1', A, MINUTE)).toBe(false); // nobody asked
    expect(await leases.request('move:1', B)).toBe(true);
    // The holder hears the request when it renews; taking its own lease again keeps the request.
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(true);
    expect(await leases.renew(A, ['move:1'], MINUTE)).toEqual([{ name: 'move:1', wantedBy: B }]);
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(false); // asking is not taking
    expect(await leases.handOver('move:1', A, MINUTE)).toBe(true);
    expect(await leases.holder('move:1')).toEqual({ owner: B, live: true, wantedBy: null });
    expect(await leases.tryAcquire('move:1', B, MINUTE)).toBe(true);
    expect(await leases.tryAcquire('move:1', A, MINUTE)).toBe(false);
  });

  it('releases all of an owner\'s leases under a prefix, and no one else\'s', async () => {
    await leases.tryAcquire('move:1', A, MINUTE);
    await leases.tryAcquire('move:2', A, MINUTE);
    await leases.tryAcquire('other:1', A, MINUTE);
    await leases.tryAcquire('move:3', B, MINUTE);
    await leases.releaseAll(A, 'move:');
    expect(await leases.holder('move:1')).toBeUndefined();
    expect(await leases.holder('move:2')).toBeUndefined();
    expect(await leases.holder('other:1')).toMatchObject({ owner: A });
    expect(await leases.holder('move:3')).toMatchObject({ owner: B });
  });

  it('deletes only the leases expired longer than the grace: live ones and recently expired ones stay', async () => {
    await leases.tryAcquire('move:dead-holder', A, 0);
    await leases.tryAcquire('move:live', B, MINUTE);
    // Expired two hours ago, by the database's clock: a holder that died after its move finished.
    await db.q.updateTable('leases').set({ expires_ms: sql<number>`expires_ms - ${2 * 60 * MINUTE}` }).where('name', '=', 'move:dead-holder').execute();
    await leases.tryAcquire('move:just-expired', A, 0);

    expect(await leases.deleteExpired(60 * MINUTE)).toBe(1);
    expect(await leases.holder('move:dead-holder')).toBeUndefined();
    expect(await leases.holder('move:live')).toEqual({ owner: B, live: true, wantedBy: null });
    expect(await leases.holder('move:just-expired')).toMatchObject({ owner: A, live: false });
    expect(await leases.deleteExpired(60 * MINUTE)).toBe(0);
  });

  it('takes a lease outside the transaction of the work that asked: it stands when that transaction rolls back', async () => {
    let taking!: Promise<boolean>;
    await expect(
      db.transaction(async () => {
        // Not awaited inside the transaction: on SQLite the lease waits for the one connection the transaction holds.
        taking = leases.tryAcquire('move:1', A, MINUTE);
        throw new Error('the caller rolls back');
      }),
    ).rejects.toThrow('the caller rolls back');
    expect(await taking).toBe(true);
    expect(await leases.holder('move:1')).toMatchObject({ owner: A });
  });
});

describe('LeaseKeeper', () => {
  let db: HiveDatabase;
  let repo: LeaseRepository;
  const keepers: LeaseKeeper[] = [];

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));
  beforeEach(async () => {
    db = await openTestDatabase();
    repo = new LeaseRepository(db);
  });
  afterEach(async () => {
    for (const keeper of keepers.splice(0)) await keeper.close();
    await db.close();
  });

  function keeper(ttlMs = MINUTE, renewMs = MINUTE): LeaseKeeper {
    const made = new LeaseKeeper(repo, { ttlMs, renewMs });
    keepers.push(made);
    return made;
  }

  it('has a random owner id per process; one of two processes holds a lease', async () => {
    const [p1, p2] = [keeper(), keeper()];
    expect(p1.owner).not.toBe(p2.owner);
    expect(await p1.acquire('move:1')).toBe(true);
    expect(await p2.acquire('move:1')).toBe(false);
    expect(p1.holds('move:1')).toBe(true);
    expect(p2.holds('move:1')).toBe(false);
  });

  it('stops counting a lease as held once a renewal finds another process took it', async () => {
    const p1 = keeper();
    expect(await p1.acquire('move:1')).toBe(true);
    // Another process took it over (p1's lease had run out, say).
    await db.q.updateTable('leases').set({ owner: 'someone-else' }).where('name', '=', 'move:1').execute();
    expect(p1.holds('move:1')).toBe(true);
    await p1.renew();
    expect(p1.holds('move:1')).toBe(false);
  });

  it('stops counting a lease as held when it cannot renew it in time, before the database would give it away', async () => {
    const p1 = keeper(400, MINUTE);
    expect(await p1.acquire('move:1')).toBe(true);
    jest.spyOn(repo, 'renew').mockRejectedValue(new Error('connection lost'));
    await p1.renew();
    await eventually('p1 gives the lease up by itself', async () => p1.holds('move:1'), (held) => !held, 5_000);
    // By then the database may or may not have let it go; it never did so while p1 still counted it held.
    jest.restoreAllMocks();
  });

  it('renews what it holds by its timer, and tells a listener which lease another process asked for', async () => {
    const [p1, p2] = [keeper(MINUTE, 50), keeper()];
    const asked: string[] = [];
    p1.onHandoffWanted((name) => asked.push(name));
    await p1.acquire('move:1');
    expect(await p2.request('move:1')).toBe(true);
    await eventually('p1 hears the request at a renewal', async () => asked, (names) => names.includes('move:1'), 5_000);
    expect(await p1.handOver('move:1')).toBe(true);
    expect(p1.holds('move:1')).toBe(false);
    expect(await p2.acquire('move:1')).toBe(true);
  });

  it('names its owner id and deletes long-expired leases when the application starts; a failed delete is logged, not thrown', async () => {
    await repo.tryAcquire('move:left-behind', A, 0);
    await db.q.updateTable('leases').set({ expires_ms: sql<number>`expires_ms - ${2 * 60 * MINUTE}` }).where('name', '=', 'move:left-behind').execute();
    const p1 = keeper();
    const logged = jest.spyOn(Logger.prototype, 'log');
    p1.onApplicationBootstrap();
    // The log names the owner id its rows carry, to tell which process holds what.
    expect(logged.mock.calls.map(([message]) => String(message))).toContain(`this process's lease owner id is ${p1.owner}`);
    await eventually('the left-behind lease deleted', () => repo.holder('move:left-behind'), (row) => row === undefined, 5_000);
    jest.spyOn(repo, 'deleteExpired').mockRejectedValueOnce(new Error('connection lost'));
    await expect(p1.deleteExpired()).resolves.toBeUndefined();
    jest.restoreAllMocks();
  });

  it('gives up every lease it holds when it closes', async () => {
    const [p1, p2] = [keeper(), keeper()];
    await p1.acquire('move:1');
    await p1.acquire('move:2');
    await p1.close();
    expect(await p1.acquire('move:3')).toBe(false);
    expect(await p2.acquire('move:1')).toBe(true);
    expect(await p2.acquire('move:2')).toBe(true);
  });
});
