import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The TCP addresses a process listens on (`127.0.0.1:8000`, `[::]:8000`, `*:8000`), as `ss` sees them. */
export async function listeningAddresses(pid: number): Promise<string[]> {
  const { stdout } = await run('ss', ['-Hltnp'], { timeout: 10_000 });
  return stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3]);
}
