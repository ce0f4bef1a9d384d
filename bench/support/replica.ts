import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../test/support/storage-plugin';

const POLL_MS = 50;

/**
 * The plugin replicates after the last unmount and prunes after a snapshot, in the background
 * (restic with a lock): a figure taken meanwhile measures that too. This waits until the volume
 * is unmounted and not replicating, and its repository has had no lock for `quietMs`. Background
 * work has no event to wait on, hence the polling; the caller's step bounds it.
 */
export async function replicaAtRest(control: ControlClient, name: string, repository: string, quietMs = 1000): Promise<void> {
  await control.waitForVolume(name, (v) => v.mounts === 0 && v.replication?.state !== 'replicating', 10 * 60_000);
  await repositoryQuiet(repository, quietMs);
}

/** Until a restic repository has had no lock for `quietMs` (a prune or a snapshot in the background is over). */
export async function repositoryQuiet(repository: string, quietMs = 1000): Promise<void> {
  const locks = join(repository, 'locks');
  let since = Date.now();
  for (;;) {
    const held = existsSync(locks) && readdirSync(locks).length > 0;
    if (held) since = Date.now();
    else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
