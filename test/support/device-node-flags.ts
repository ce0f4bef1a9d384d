import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCKERFILE = join(__dirname, '../../Dockerfile');
const MAIN = 'dist/apps/device/main.js';

/**
 * The Node flags the Device image starts the Device with: those of the `device` stage's CMD in
 * the Dockerfile, between "node" and the main file. Tests and benches that run the Device as a
 * process use the same, so they measure and exercise what the image runs.
 */
export function deviceNodeFlags(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS device\s*$/m.test(s.split('\n')[0]));
  if (!stage) throw new Error('the Dockerfile has no "FROM … AS device" stage');
  const cmd = [...stage.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1)?.[1];
  if (!cmd) throw new Error('the Dockerfile\'s device stage has no CMD ["node", …] line');
  const argv = JSON.parse(cmd) as string[];
  const main = argv.indexOf(MAIN);
  if (argv[0] !== 'node' || main < 0) throw new Error(`the device stage's CMD is not "node [flags…] ${MAIN}": ${cmd}`);
  return argv.slice(1, main);
}
