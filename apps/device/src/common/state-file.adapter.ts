import { Injectable } from '@nestjs/common';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A JSON document in STATE_DIR, replaced atomically (write to a temp file, then rename) so a crash
 * never leaves half a file. Owner-only permissions: it may hold command results.
 */
@Injectable()
export class StateFileAdapter {
  read<T>(path: string): T | undefined {
    let text: string;
    try {
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

  write(path: string, value: unknown): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(temp, JSON.stringify(value), { mode: 0o600 });
    renameSync(temp, path);
  }
}
