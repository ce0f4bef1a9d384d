import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/**
 * A small file of a local replica store (a key or a snapshot file), read as the store may be
 * hostile: only a regular file (checked with lstat before the open, so no device node is ever
 * opened, and again on the open handle, which must be the same file), no symlink followed, a FIFO
 * never waited on, and at most `maxBytes` read whatever the file grows to meanwhile. Undefined
 * when it is anything else or larger; throws as `open` does (ENOENT when it is gone).
 */
export async function readStoreFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const seen = await lstat(path);
  if (!seen.isFile() || seen.size > maxBytes) return undefined;
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await file.stat();
    if (!info.isFile() || info.dev !== seen.dev || info.ino !== seen.ino || info.size > maxBytes) return undefined;
    const buffer = Buffer.alloc(info.size + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return bytesRead > info.size ? undefined : buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
