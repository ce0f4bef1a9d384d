import { execFile } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** A version query that hangs (an engine that does not answer) must not hold the table up. */
const VERSION_TIMEOUT_MS = 10_000;

async function versionOf(file: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(file, args, { timeout: VERSION_TIMEOUT_MS });
    return stdout.trim().split('\n')[0];
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

/** What figures depend on: the machine and the versions of the outside programs the benches drive. */
export async function machineFacts(): Promise<Array<[string, string]>> {
  const [docker, compose, restic] = await Promise.all([
    versionOf('docker', ['version', '--format', '{{.Server.Version}}']),
    versionOf('docker', ['compose', 'version', '--short']),
    versionOf('restic', ['version']),
  ]);
  return [
    ['cores', `${cpus().length} (${cpus()[0]?.model.trim() ?? 'unknown model'})`],
    ['RAM', `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    ['kernel', release()],
    ['Node', process.version],
    ['docker engine', docker],
    ['docker compose', compose],
    ['restic', /^restic (\S+)/.exec(restic)?.[1] ?? restic],
  ];
}

/** The facts of the run: as they were at its start, with any that changed by its end marked so. */
export function factsOfRun(before: Array<[string, string]>, after: Array<[string, string]>): Array<[string, string]> {
  return before.map(([what, value], i) => [
    what,
    after[i][1] === value ? value : `${value} at the start, ${after[i][1]} at the end (changed during the run)`,
  ]);
}
