import { Injectable } from '@nestjs/common';
import { lstat, mkdir, readdir, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The filesystem operations the plugin's logic needs, in one place (tests use real temp dirs). */
@Injectable()
export class FilesAdapter {
  /** Whether anything is at `path` itself: a symlink counts as there, whether or not it leads anywhere. */
  async exists(path: string): Promise<boolean> {
    return lstat(path).then(
      () => true,
      () => false,
    );
  }

  /** A real folder at `path`: not a symlink to one (lstat), which Docker would follow when it mounts. */
  async isFolder(path: string): Promise<boolean> {
    return lstat(path).then(
      (stat) => stat.isDirectory(),
      () => false,
    );
  }

  async makeDir(path: string, mode = 0o755): Promise<void> {
    await mkdir(path, { recursive: true, mode });
  }

  async removeTree(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  /** Removes what `dir` holds, not `dir` itself (it may be a mount point); nothing when it is missing. */
  async removeContents(dir: string): Promise<void> {
    const entries = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(entries.map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async writeFile(path: string, content: string): Promise<void> {
    await writeFile(path, content, { mode: 0o600 });
  }

  /** Bytes available to an unprivileged writer on the filesystem holding `path`. */
  async availableBytes(path: string): Promise<number> {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  }

  /**
   * The bytes of the regular files below `dir` (symlinks are not followed). Entries that vanish
   * during the walk are skipped: a volume may be written while it is measured.
   */
  async directorySize(dir: string): Promise<number> {
    let total = 0;
    const pending = [dir];
    while (pending.length) {
      const current = pending.pop() as string;
      let entries;
      try {
        entries = await readdir(current, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        const path = join(current, entry.name);
        if (entry.isDirectory()) pending.push(path);
        else if (entry.isFile())
          total += await lstat(path).then(
            (s) => s.size,
            () => 0,
          );
      }
    }
    return total;
  }
}
