import { createHash, randomBytes } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { CryptoKey, seal } from './restic-key-file';
import { MAX_SNAPSHOT_FILE_BYTES, SnapshotFileError, decodeSnapshotFile } from './restic-snapshot-file';

const key = (): CryptoKey => ({ encryption: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) });
const TREE = 'ab'.repeat(32);
const snapshot = (fields: Record<string, unknown> = {}) => ({ time: '2026-12-07T20:15:03.123456789Z', tree: TREE, paths: ['/data'], tags: ['mosaic', 'gen:2'], summary: { total_bytes_processed: 4096 }, ...fields });

/** A snapshot file as restic stores it: the plaintext sealed with the master key, named by its hash. */
function file(master: CryptoKey, plaintext: Buffer): { id: string; bytes: Buffer } {
  const bytes = seal(master, plaintext);
  return { id: createHash('sha256').update(bytes).digest('hex'), bytes };
}
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const compressed = (plain: Buffer) => Buffer.concat([Buffer.from([2]), zstdCompressSync(plain)]);

describe("restic's snapshot files", () => {
  const master = key();

  it('reads a plain (repository version 1) and a zstd-compressed (version 2) file as restic lists it', () => {
    for (const plaintext of [json(snapshot()), compressed(json(snapshot()))]) {
      const { id, bytes } = file(master, plaintext);
      expect(decodeSnapshotFile(master, id, bytes)).toEqual({ id, time: '2026-12-07T20:15:03.123456789Z', tags: ['mosaic', 'gen:2'], totalBytes: 4096 });
    }
    // restic < 0.17 wrote no summary; no tags is an empty list.
    const bare = file(master, json({ time: '2026-12-07T20:15:03+01:00', tree: TREE }));
    expect(decodeSnapshotFile(master, bare.id, bare.bytes)).toEqual({ id: bare.id, time: '2026-12-07T20:15:03+01:00', tags: [] });
  });

  it("refuses what restic would not read as a snapshot, even sealed with the repository's key", () => {
    const refused = (plaintext: Buffer, message: RegExp) => {
      const { id, bytes } = file(master, plaintext);
      expect(() => decodeSnapshotFile(master, id, bytes)).toThrow(message);
    };
    refused(Buffer.concat([Buffer.from(' '), json(snapshot())]), /a format restic does not write/);
    refused(json([snapshot()]), /a format restic does not write/);
    refused(Buffer.from([3, 1, 2]), /a format restic does not write/);
    refused(Buffer.alloc(0), /a format restic does not write/);
    refused(Buffer.from('{not json'), /is not JSON/);
    refused(json(snapshot({ tree: 'not-a-tree' })), /holds no snapshot/);
    refused(json(snapshot({ tree: undefined })), /holds no snapshot/);
    refused(json(snapshot({ time: 'yesterday' })), /holds no snapshot/);
    refused(json(snapshot({ time: '2026-12-07 20:15:03' })), /holds no snapshot/);
    refused(json(snapshot({ tags: ['mosaic', 7] })), /tags that are not strings/);
    refused(Buffer.concat([Buffer.from([2]), randomBytes(40)]), /does not decompress/);
    // A small file that decompresses beyond a snapshot's size is not inflated.
    refused(compressed(json(snapshot({ paths: ['x'.repeat(MAX_SNAPSHOT_FILE_BYTES)] }))), /does not decompress/);
  });

  it('refuses a file that does not hash to its name, is sealed with another key, or is larger than a snapshot', () => {
    const { id, bytes } = file(master, json(snapshot()));
    expect(() => decodeSnapshotFile(master, id.replace(/^./, id[0] === 'a' ? 'b' : 'a'), bytes)).toThrow(/does not hash to its name/);
    let err: unknown;
    try {
      decodeSnapshotFile(key(), id, bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotFileError);
    expect(err).toMatchObject({ kind: 'sealed', message: expect.stringMatching(/is not sealed with the repository's key/) });
    const large = file(master, json(snapshot({ paths: ['x'.repeat(MAX_SNAPSHOT_FILE_BYTES)] })));
    expect(() => decodeSnapshotFile(master, large.id, large.bytes)).toThrow(/more than a snapshot file/);
    expect(() => decodeSnapshotFile(master, '../../config', bytes)).toThrow(/is not a snapshot id/);
  });
});
