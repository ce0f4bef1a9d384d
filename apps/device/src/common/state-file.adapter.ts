import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A JSON document in STATE_DIR, replaced atomically (write to a temp file, then rename) so a crash
 * never leaves half a file. Owner-only permissions: it may hold command results.
 */
@Injectable()
export class StateFileAdapter {
  /** Read once at boot, so synchronously; a file larger than `maxBytes` is set aside unread. */
  read<T>(path: string, maxBytes = Infinity): T | undefined {
    let text: string;
    try {
      if (statSync(path).size > maxBytes) {
        renameSync(path, `${path}.too-large-${Date.now()}`);
        return undefined;
      }
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      // A corrupt state file must not keep the device down; it is set aside and started afresh.
      renameSync(path, `${path}.corrupt-${Date.now()}`);
      return undefined;
    }
  }

  /** Writes `text` without blocking the event loop; a failed write leaves the old file and no temp file. */
  async write(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(text);
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (err) {
      // A temp file left on a full disk would keep it full.
      await rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The same, done before it returns: for the few small records whose order matters more than the
   * event loop (an upgrade's plan must be on disk before the updater acts on it).
   */
  writeNow(path: string, text: string): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }
}
