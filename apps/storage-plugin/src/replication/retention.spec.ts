import { snapshotsToForget } from './retention';
import { SnapshotInfo } from './writer-rule';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';

const id = (n: string) => n.padEnd(64, '0');
const short = (ids: string[]) => ids.map((i) => i.replace(/0+$/, '')).sort();

function snap(n: string, time: string, ...tags: string[]): SnapshotInfo {
  return { id: id(n), time, tags };
}

/** A's generation 1 (its clock ahead), B's claim of generation 2 (its clock 5 hours behind), A's late snapshot. */
const failedOver = [
  snap('c1', '2026-11-25T15:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
  snap('a1', '2026-11-25T15:10:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
  snap('a2', '2026-11-25T15:20:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
  snap('c2', '2026-11-25T10:25:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2', `base:${id('a2')}`),
  snap('a3', '2026-11-25T15:30:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:3'),
  snap('b4', '2026-11-25T10:35:00Z', 'mosaic', `writer:${B}`, 'gen:2', 'seq:4'),
  snap('b5', '2026-11-25T10:40:00Z', 'mosaic', `writer:${B}`, 'gen:2', 'seq:5'),
];

describe('retention', () => {
  it("keeps the current generation's newest with keep-last 1, though an old generation's snapshot is hours later by time", () => {
    expect(short(snapshotsToForget(failedOver, { keepLast: 1, keepDaily: 0 }))).toEqual(['a1', 'a2', 'a3', 'b4']);
  });

  it("counts keep-last along the lineage, across the claim to its base, and always forgets the old writer's late snapshot", () => {
    expect(short(snapshotsToForget(failedOver, { keepLast: 3, keepDaily: 0 }))).toEqual(['a1', 'a3']);
    expect(short(snapshotsToForget(failedOver, { keepLast: 100, keepDaily: 0 }))).toEqual(['a3']);
  });

  it('keeps the newest of each of the last keep-daily days along the lineage, as restic counts days', () => {
    const days = [
      snap('c1', '2026-11-20T08:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
      snap('d1', '2026-11-21T08:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
      snap('d2', '2026-11-21T09:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
      snap('d3', '2026-11-22T08:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:3'),
      snap('d4', '2026-11-23T08:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:4'),
      snap('d5', '2026-11-23T09:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:5'),
    ];
    expect(short(snapshotsToForget(days, { keepLast: 1, keepDaily: 2 }))).toEqual(['d1', 'd2', 'd4']);
    expect(short(snapshotsToForget(days, { keepLast: 1, keepDaily: 7 }))).toEqual(['d1', 'd4']);
  });

  it("never forgets claims, other tools' snapshots or malformed ones", () => {
    const mixed = [
      ...failedOver,
      snap('e1', '2026-11-25T16:00:00Z', 'someone-else'),
      snap('e2', '2026-11-25T16:00:00Z', 'mosaic', `writer:${C}`, 'gen:2'),
    ];
    const forgotten = short(snapshotsToForget(mixed, { keepLast: 1, keepDaily: 0 }));
    expect(forgotten).toEqual(['a1', 'a2', 'a3', 'b4']);
  });

  it('forgets nothing while the top generation is contested, or before the replica has generations', () => {
    const contested = [
      ...failedOver.slice(0, 5),
      snap('c9', '2026-11-25T10:26:00Z', 'mosaic-claim', `writer:${C}`, 'gen:2', `base:${id('a2')}`),
    ];
    expect(snapshotsToForget(contested, { keepLast: 1, keepDaily: 0 })).toEqual([]);
    const legacy = [
      snap('l1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
      snap('l2', '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`),
    ];
    expect(snapshotsToForget(legacy, { keepLast: 1, keepDaily: 0 })).toEqual([]);
  });
});
