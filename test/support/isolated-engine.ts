import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_IMAGE } from './engine';

const run = promisify(execFile);

/** Waits on a state only a look can tell (a socket that starts answering, a namespace that exists). */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * A second Docker engine of the test's own, in a mount namespace of its own whose
 * /run/docker/plugins is a temporary directory. Docker finds legacy plugin sockets only in
 * /run/docker/plugins, and an engine that has used a legacy driver keeps it until it restarts:
 * every later lookup of an unknown volume then waits ~30 s for that driver's vanished socket. So a
 * test plugin is never shown to the machine's engine; this one sees it and dies with the test.
 * Its own bridge (docs/architecture.md: never `--bridge none`), no iptables, containers with `--network none`.
 */
export class IsolatedEngine {
  readonly pluginDir: string;
  readonly socket: string;
  private readonly bridge = `br-ms${randomBytes(3).toString('hex')}`;
  private poolOctet = 0;
  /** The machine's address on this engine's bridge: what its containers reach the machine by. */
  gateway = '';
  /** FORWARD rules that let this engine's containers reach each other (see boot()). */
  private forwardRules: string[][] = [];
  private holder?: ChildProcess;
  private dockerd?: ChildProcess;
  private dockerdExit?: Promise<void>;

  private constructor(readonly root: string) {
    this.pluginDir = join(root, 'plugins');
    this.socket = join(root, 'docker.sock');
  }

  static async start(): Promise<IsolatedEngine> {
    const engine = new IsolatedEngine(mkdtempSync('/tmp/mse-'));
    try {
      await engine.boot();
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /** The docker CLI against this engine. */
  async docker(...args: string[]): Promise<string> {
    const { stdout } = await run('docker', ['-H', `unix://${this.socket}`, ...args], { maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  }

  async stop(): Promise<void> {
    if (this.dockerd?.exitCode === null && this.dockerd.signalCode === null) {
      // A network's bridge outlives its dockerd in the machine's network namespace: remove them first.
      const containers = (await this.docker('ps', '-aq').catch(() => '')).split('\n').filter(Boolean);
      if (containers.length) await this.docker('rm', '-f', ...containers).catch(() => undefined);
      await this.docker('network', 'prune', '-f').catch(() => undefined);
      this.dockerd.kill('SIGTERM');
      const killed = setTimeout(() => this.dockerd?.kill('SIGKILL'), 20_000);
      await this.dockerdExit;
      clearTimeout(killed);
    }
    if (this.holder?.exitCode === null && this.holder.signalCode === null) this.holder.kill('SIGKILL');
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    for (const rule of this.forwardRules) await run('iptables', ['-D', 'FORWARD', ...rule]).catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async boot(): Promise<void> {
    for (const dir of ['plugins', 'data', 'exec']) mkdirSync(join(this.root, dir), { recursive: true });
    mkdirSync('/run/docker/plugins', { recursive: true });

    // The namespace: held by a sleeping process, entered by nsenter for the bind mount and dockerd.
    this.holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
    const ours = readlinkSync('/proc/self/ns/mnt');
    await until('the mount namespace', () => {
      try {
        return (
          readlinkSync(`/proc/${this.holder!.pid}/ns/mnt`) !== ours &&
          readFileSync(`/proc/${this.holder!.pid}/comm`, 'utf8').trim() === 'sleep'
        );
      } catch {
        return false;
      }
    });
    const holder = String(this.holder.pid);
    execFileSync('nsenter', ['-t', holder, '-m', 'mount', '--bind', this.pluginDir, '/run/docker/plugins']);

    const taken = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
    let subnet: string;
    do subnet = `10.213.${randomInt(0, 256)}`;
    while (taken.includes(` ${subnet}.`));
    do this.poolOctet = randomInt(100, 200);
    while (taken.includes(` 10.${this.poolOctet}.`));
    execFileSync('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.gateway = `${subnet}.1`;
    execFileSync('ip', ['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
    execFileSync('ip', ['link', 'set', this.bridge, 'up']);

    // The machine's engine sets FORWARD to DROP, and bridged packets pass iptables here
    // (br_netfilter): without these, containers of this engine could not talk to each other.
    for (const range of [`${subnet}.0/24`, `10.${this.poolOctet}.0.0/16`]) {
      const rule = ['-s', range, '-d', range, '-j', 'ACCEPT'];
      await run('iptables', ['-I', 'FORWARD', ...rule]).then(
        () => this.forwardRules.push(rule),
        () => undefined, // no iptables, no FORWARD policy to pass
      );
    }

    const log = openSync(join(this.root, 'dockerd.log'), 'a');
    // nsenter without --pid execs dockerd itself, so this child is the daemon.
    this.dockerd = spawn(
      'nsenter',
      [
        '-t',
        holder,
        '-m',
        'dockerd',
        '--data-root',
        join(this.root, 'data'),
        '--exec-root',
        join(this.root, 'exec'),
        '--pidfile',
        join(this.root, 'docker.pid'),
        '-H',
        `unix://${this.socket}`,
        '--bridge',
        this.bridge,
        '--iptables=false',
        '--ip6tables=false',
        '--ip-masq=false',
        // Networks of its own (compose projects) come from a private range, never the machine's pools.
        '--default-address-pool',
        `base=10.${this.poolOctet}.0.0/16,size=24`,
      ],
      { stdio: ['ignore', log, log] },
    );
    this.dockerdExit = new Promise((resolve) => this.dockerd!.on('exit', () => resolve()));
    await until('the isolated dockerd', async () => {
      if (this.dockerd!.exitCode !== null)
        throw new Error(`dockerd exited:\n${readFileSync(join(this.root, 'dockerd.log'), 'utf8').slice(-2000)}`);
      return ping(this.socket);
    });

    await this.loadImages(TEST_IMAGE);
  }

  /** Copies images from the machine's engine to this one (nothing can be pulled). */
  async loadImages(...images: string[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'pipe'] });
      const load = spawn('docker', ['-H', `unix://${this.socket}`, 'load', '-q'], { stdio: ['pipe', 'ignore', 'inherit'] });
      let saveErrors = '';
      save.stderr.on('data', (chunk: Buffer) => (saveErrors += chunk.toString()));
      save.on('exit', (code) => code !== 0 && reject(new Error(`docker save ${images.join(' ')} failed on the machine's engine: ${saveErrors.trim()}`)));
      save.stdout.pipe(load.stdin);
      load.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker load exited with ${code}`))));
    });
  }
}
