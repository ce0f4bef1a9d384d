import { SnapshotInfo, claimTags, currentSnapshot, dataTags, decideWriter, readSnapshot, replicaView, snapshotTimeNs } from './writer-rule';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';

function snap(id: string, time: string, ...tags: string[]): SnapshotInfo {
  return { id, time, tags };
}

/** A restic-like id (64 hex digits) that starts with the given ones. */
const id = (n: string) => n.padEnd(64, '0');
const base = (n: string) => `base:${id(n)}`;
const ids = (snapshots: SnapshotInfo[]) => snapshots.map((s) => s.id.replace(/0+$/, ''));

describe('the writer rule', () => {
  describe('before generations (snapshots without gen: tags, generation 0)', () => {
    it('lets anyone write an empty replica', () => {
      expect(decideWriter([], A)).toEqual({ allowed: true, writer: null, contested: false });
    });

    it('lets the writer of the newest snapshot write, and refuses every other device', () => {
      const snapshots = [
        snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
        snap('2', '2026-11-25T11:00:00Z', 'mosaic', `writer:${B}`),
      ];
      expect(decideWriter(snapshots, B)).toEqual({ allowed: true, writer: B, contested: false });
      expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B, contested: false });
    });

    it('goes by time, not by the order restic lists them in', () => {
      const snapshots = [
        snap('2', '2026-11-25T11:00:00Z', 'mosaic', `writer:${B}`),
        snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
      ];
      expect(decideWriter(snapshots, A).allowed).toBe(false);
      expect(currentSnapshot(snapshots)?.id).toBe('2');
    });

    it('counts a claim: after a failover the old writer is refused, though its data snapshot is the newest data', () => {
      const snapshots = [
        snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
        snap('2', '2026-11-25T10:05:00Z', 'mosaic-claim', `writer:${B}`),
      ];
      expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B, contested: false });
      expect(decideWriter(snapshots, B)).toEqual({ allowed: true, writer: B, contested: false });
      expect(currentSnapshot(snapshots)?.id).toBe('1');
    });

    it("ignores snapshots that are not Mosaic's", () => {
      const snapshots = [snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`), snap('2', '2026-11-25T12:00:00Z', `writer:${B}`)];
      expect(decideWriter(snapshots, A).allowed).toBe(true);
      expect(currentSnapshot(snapshots)?.id).toBe('1');
    });

    it("tells apart snapshots less than a millisecond apart, and restic's time zones", () => {
      const snapshots = [
        snap('1', '2026-11-25T10:00:00.000100Z', 'mosaic-claim', `writer:${B}`),
        snap('2', '2026-11-25T11:00:00.000050+01:00', 'mosaic', `writer:${A}`),
      ];
      expect(snapshotTimeNs('2026-11-25T10:00:00.000100Z')).toBeGreaterThan(snapshotTimeNs('2026-11-25T11:00:00.000050+01:00'));
      expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B, contested: false });
    });
  });

  describe('with generations (no clocks)', () => {
    it('makes the holder of the highest claim generation the writer, though its clock is hours behind', () => {
      const snapshots = [
        snap(id('a1'), '2026-11-25T15:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('c2'), '2026-11-25T12:00:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2', base('a1')),
      ];
      expect(decideWriter(snapshots, B)).toEqual(expect.objectContaining({ allowed: true, writer: B }));
      expect(decideWriter(snapshots, A)).toEqual(expect.objectContaining({ allowed: false, writer: B }));
    });

    it("restores the claim's base, never the old writer's late snapshot, until the new generation has data", () => {
      const snapshots = [
        snap(id('a1'), '2026-11-25T15:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('c2'), '2026-11-25T12:00:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2', base('a1')),
        snap(id('a2'), '2026-11-25T15:05:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
      ];
      expect(currentSnapshot(snapshots)?.id).toBe(id('a1'));
      const withData = [...snapshots, snap(id('b3'), '2026-11-25T12:01:00Z', 'mosaic', `writer:${B}`, 'gen:2', 'seq:3')];
      expect(currentSnapshot(withData)?.id).toBe(id('b3'));
    });

    it('orders one generation by its sequence numbers, not by a clock that went back', () => {
      const snapshots = [
        snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
        snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('a2'), '1970-01-01T00:01:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
      ];
      expect(currentSnapshot(snapshots)?.id).toBe(id('a2'));
    });

    it('walks the lineage back through each claim to its base, leaving out every late snapshot', () => {
      const snapshots = [
        snap(id('f3'), '2026-11-25T08:00:00Z', 'mosaic', `writer:${C}`),
        snap(id('f1'), '2026-11-25T09:00:00Z', 'mosaic', `writer:${A}`),
        snap(id('f2'), '2026-11-25T23:00:00Z', 'mosaic', `writer:${C}`), // an older plugin's late snapshot
        snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1', base('f1')),
        snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('a2'), '2026-11-25T12:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
        snap(id('c2'), '2026-11-25T01:00:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2', base('a2')),
        snap(id('a3'), '2026-11-25T13:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:3'), // late
        snap(id('b4'), '2026-11-25T02:00:00Z', 'mosaic', `writer:${B}`, 'gen:2', 'seq:4'),
        snap(id('x5'), '2026-11-25T02:00:00Z', 'mosaic', `writer:${C}`, 'gen:2', 'seq:5'), // not the holder's
      ];
      const view = replicaView(snapshots);
      expect(view).toMatchObject({ generation: 2, writer: B, contestedBy: null, nextSequence: 6 });
      expect(ids(view.lineage)).toEqual(['b4', 'a2', 'a1', 'f1', 'f3']);
    });

    it('restores nothing after a claim that continued from nothing', () => {
      const snapshots = [
        snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('c2'), '2026-11-25T12:00:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2'),
      ];
      expect(currentSnapshot(snapshots)).toBeUndefined();
    });

    it.each([
      ['a claim’s base is gone (pruned under it)', 'gen:2'],
      ['the generation between has no claim left (all withdrawn)', 'gen:3'],
    ])('falls back to the newest data of the generation below when %s', (_what, generation) => {
      const snapshots = [
        snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
        snap(id('a2'), '2026-11-25T12:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:2'),
        snap(id('c9'), '2026-11-25T01:00:00Z', 'mosaic-claim', `writer:${B}`, generation, base('a1')),
      ];
      expect(currentSnapshot(snapshots)?.id).toBe(id('a2'));
    });

    describe('two claims of one generation', () => {
      const before = [
        snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
        snap(id('a1'), '2026-11-25T12:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('c2'), '2026-11-25T13:00:00Z', 'mosaic-claim', `writer:${B}`, 'gen:2', base('a1')),
        snap(id('c3'), '2026-11-25T09:00:00Z', 'mosaic-claim', `writer:${C}`, 'gen:2', base('a1')),
      ];

      it('are contested: nobody writes, not even the old writer, and a restore takes what they continued from', () => {
        for (const device of [A, B, C]) expect(decideWriter(before, device)).toEqual({ allowed: false, writer: null, contested: true });
        expect(replicaView(before).contestedBy).toEqual([B, C]);
        expect(currentSnapshot(before)?.id).toBe(id('a1'));
      });

      it('are settled by the claimant that wrote data in the generation (only one that saw itself alone does)', () => {
        const settled = [...before, snap(id('b4'), '2026-11-25T14:00:00Z', 'mosaic', `writer:${C}`, 'gen:2', 'seq:2')];
        expect(decideWriter(settled, C)).toEqual({ allowed: true, writer: C, contested: false });
        expect(decideWriter(settled, B)).toEqual({ allowed: false, writer: C, contested: false });
        expect(currentSnapshot(settled)?.id).toBe(id('b4'));
      });

      it('let a claimant that saw itself alone write (it knows), so that its data settles them', () => {
        expect(decideWriter(before, C, 2)).toEqual({ allowed: true, writer: C, contested: false });
        expect(decideWriter(before, C, 1)).toEqual({ allowed: false, writer: null, contested: true });
        expect(decideWriter(before, A, 2)).toEqual({ allowed: false, writer: null, contested: true });
      });

      it('are not a contest when both are one device’s', () => {
        const twice = [...before.slice(0, 3), snap(id('c4'), '2026-11-25T13:00:01Z', 'mosaic-claim', `writer:${B}`, 'gen:2', base('a1'))];
        expect(decideWriter(twice, B)).toEqual({ allowed: true, writer: B, contested: false });
      });
    });

    it.each([
      ['a data snapshot without a sequence number', ['mosaic', `writer:${B}`, 'gen:3']],
      ['a data snapshot with two generations', ['mosaic', `writer:${B}`, 'gen:3', 'gen:4', 'seq:9']],
      ['a sequence number without a generation', ['mosaic', `writer:${B}`, 'seq:9']],
      ['a generation 0 tag', ['mosaic-claim', `writer:${B}`, 'gen:0']],
      ['a generation with a leading zero', ['mosaic-claim', `writer:${B}`, 'gen:03']],
      ['a generation beyond 2^53', ['mosaic-claim', `writer:${B}`, 'gen:9007199254740993']],
      ['a base that is not a snapshot id', ['mosaic-claim', `writer:${B}`, 'gen:3', 'base:../x']],
      ['a data snapshot with a base', ['mosaic', `writer:${B}`, 'gen:3', 'seq:9', base('a1')]],
      ['a claim and data at once', ['mosaic', 'mosaic-claim', `writer:${B}`, 'gen:3']],
      ['two writers', ['mosaic-claim', `writer:${B}`, `writer:${C}`, 'gen:3']],
      ['no writer', ['mosaic-claim', 'gen:3']],
    ])('ignores %s: it decides nothing and is never restored', (_what, tags) => {
      const snapshots = [
        snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
        snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1'),
        snap(id('ff'), '2026-11-25T12:00:00Z', ...tags),
      ];
      expect(readSnapshot(snapshots[2])).toBeUndefined();
      expect(decideWriter(snapshots, A)).toEqual({ allowed: true, writer: A, contested: false });
      expect(currentSnapshot(snapshots)?.id).toBe(id('a1'));
    });

    it('reads tags it does not know as nothing (later additions)', () => {
      expect(readSnapshot(snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:1', 'note:x'))).toMatchObject({
        kind: 'data',
        generation: 1,
        sequence: 1,
      });
    });
  });

  describe('the tags of new snapshots', () => {
    const snapshots = [
      snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, 'gen:1'),
      snap(id('a1'), '2026-11-25T11:00:00Z', 'mosaic', `writer:${A}`, 'gen:1', 'seq:7'),
    ];

    it('a claim takes the next generation and names the current data as its base', () => {
      expect(claimTags(replicaView(snapshots), B)).toEqual(['mosaic-claim', `writer:${B}`, 'gen:2', base('a1')]);
      expect(claimTags(replicaView([]), B)).toEqual(['mosaic-claim', `writer:${B}`, 'gen:1']);
    });

    it('a data snapshot carries its writer’s generation and the next sequence number', () => {
      expect(dataTags(replicaView(snapshots), A)).toEqual(['mosaic', `writer:${A}`, 'gen:1', 'seq:8']);
    });

    it('refuses to go past 2^53 − 1', () => {
      const full = [snap(id('c1'), '2026-11-25T10:00:00Z', 'mosaic-claim', `writer:${A}`, `gen:${Number.MAX_SAFE_INTEGER}`)];
      expect(() => claimTags(replicaView(full), B)).toThrow(/used up/);
    });
  });
});
