// Test support: a real HAProxy (Debian's package, scripts/setup-test-env.sh) running the
// deployment's own config, deploy/hive-cluster/haproxy.cfg. HAProxy cannot bind port 0, so the
// test listens on port 0 itself and hands the listening socket to HAProxy as fd 3 (`bind fd@3`):
// no port is guessed, and connections made before HAProxy is ready wait in the socket's backlog.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import { join } from 'node:path';
import { OutputLines, stopChild } from './output-lines';

export const HAPROXY_CONFIG = join(__dirname, '../../deploy/hive-cluster/haproxy.cfg');
const HAPROXY_BINARY = '/usr/sbin/haproxy';
/** Deadline on HAProxy's own stop. */
const STOP_TIMEOUT_MS = 10_000;

/** A loopback socket listening on a free port, for a child process to inherit. */
async function listeningSocket(): Promise<{ server: Server; port: number; fd: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, () => resolve());
  });
  // Node exposes a listening socket's descriptor only on its handle; spawn's stdio takes a descriptor.
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    server.close();
    throw new Error('the listening socket has no file descriptor to hand on (not a Unix platform?)');
  }
  return { server, port: (server.address() as { port: number }).port, fd };
}

export class HaproxyProcess {
  readonly output = new OutputLines();
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    /** http://127.0.0.1:<port> */
    readonly url: string,
  ) {
    this.output.follow(child);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** HAProxy with deploy/hive-cluster/haproxy.cfg in front of `hives` (host:port each, two of them). */
  static async start(hives: [string, string]): Promise<HaproxyProcess> {
    if (!existsSync(HAPROXY_BINARY))
      throw new Error(`${HAPROXY_BINARY} is missing: run scripts/setup-test-env.sh, which installs Debian's haproxy`);
    const socket = await listeningSocket();
    let child: ChildProcess;
    try {
      child = spawn(HAPROXY_BINARY, ['-db', '-f', HAPROXY_CONFIG], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HIVE_LB_BIND: 'fd@3', HIVE_1: hives[0], HIVE_2: hives[1] },
        stdio: ['ignore', 'pipe', 'pipe', socket.fd],
      });
    } finally {
      // HAProxy holds its own copy now; this process must not accept on it too.
      socket.server.close();
    }
    const haproxy = new HaproxyProcess(child, `http://127.0.0.1:${socket.port}`);
    // A bad config ends it at once; a good one keeps it running with nothing more to say.
    const failed = await Promise.race([
      haproxy.exited.then(() => true),
      haproxy.output.waitFor(/Proxy hives started|Loading success/, 10_000).then(
        () => false,
        () => false,
      ),
    ]);
    if (failed) throw new Error(`haproxy did not start:\n${haproxy.output.text()}`);
    return haproxy;
  }

  /**
   * Each server's state as HAProxy last logged it ("Server hives/hive1 is DOWN, reason: …"); a
   * server it never logged about is in its initial state, UP. "UP" only once a slow start ended.
   */
  serverStates(): Record<string, 'UP' | 'DOWN'> {
    const states: Record<string, 'UP' | 'DOWN'> = { hive1: 'UP', hive2: 'UP' };
    for (const line of this.output.lines) {
      const change = /^Server hives\/(\w+) is (UP|DOWN)\b/.exec(line);
      if (change) states[change[1]] = change[2] as 'UP' | 'DOWN';
    }
    return states;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM ends HAProxy at once (SIGUSR1 would let connections finish); SIGKILL past the deadline. */
  async stop(): Promise<void> {
    await stopChild(this.child, this.exited, STOP_TIMEOUT_MS);
  }
}
