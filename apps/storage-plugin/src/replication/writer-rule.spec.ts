import { SnapshotInfo, decideWriter, newestDataSnapshot, snapshotTimeNs } from './writer-rule';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

function snap(id: string, time: string, ...tags: string[]): SnapshotInfo {
  return { id, time, tags };
}

describe('the writer rule', () => {
  it('lets anyone write an empty replica', () => {
    expect(decideWriter([], A)).toEqual({ allowed: true, writer: null });
  });

  it('lets the writer of the newest snapshot write, and refuses every other device', () => {
    const snapshots = [
      snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
      snap('2', '2026-11-25T11:00:00Z', 'mosaic', `writer:${B}`),
    ];
    expect(decideWriter(snapshots, B)).toEqual({ allowed: true, writer: B });
    expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B });
  });

  it('goes by time, not by the order restic lists them in', () => {
    const snapshots = [
      snap('2', '2026-11-25T11:00:00Z', 'mosaic', `writer:${B}`),
      snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
    ];
    expect(decideWriter(snapshots, A).allowed).toBe(false);
  });

  it('counts a claim: after a failover the old writer is refused, though its data snapshot is the newest data', () => {
    const snapshots = [
      snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`),
      snap('2', '2026-11-25T10:05:00Z', 'mosaic-claim', `writer:${B}`),
    ];
    expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B });
    expect(decideWriter(snapshots, B)).toEqual({ allowed: true, writer: B });
    expect(newestDataSnapshot(snapshots)?.id).toBe('1');
  });

  it("ignores snapshots that are not Mosaic's", () => {
    const snapshots = [snap('1', '2026-11-25T10:00:00Z', 'mosaic', `writer:${A}`), snap('2', '2026-11-25T12:00:00Z', `writer:${B}`)];
    expect(decideWriter(snapshots, A).allowed).toBe(true);
    expect(newestDataSnapshot(snapshots)?.id).toBe('1');
  });

  it("tells apart snapshots less than a millisecond apart, and restic's time zones", () => {
    const snapshots = [
      snap('1', '2026-11-25T10:00:00.000100Z', 'mosaic-claim', `writer:${B}`),
      snap('2', '2026-11-25T11:00:00.000050+01:00', 'mosaic', `writer:${A}`),
    ];
    expect(snapshotTimeNs('2026-11-25T10:00:00.000100Z')).toBeGreaterThan(snapshotTimeNs('2026-11-25T11:00:00.000050+01:00'));
    expect(decideWriter(snapshots, A)).toEqual({ allowed: false, writer: B });
  });
});
