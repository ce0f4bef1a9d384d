import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { configDir, Env } from './cli-environment';
import { CredentialStore, CredentialsError } from './credentials';
import { HiveApiError, HiveClient } from './hive-client';
import { Io, readSecret } from './io';
import { printJson, progress, table } from './output';
import { WrongPassphraseError, parseVolumeName, replicaPasswordOf } from './replica-key';

/** A mistake of the user's, said in one line without a stack. */
class UsageError extends Error {}

// Shapes of the Hive's answers (apps/hive/README.md), only the fields the CLI reads.
interface Device {
  id: string;
  name: string;
  online: boolean;
  authenticated: boolean;
  lastSeenAt: string | null;
  version: string | null;
}
interface CommandView {
  id: string;
  type: string;
  status: 'sent' | 'accepted' | 'refused' | 'succeeded' | 'failed' | 'timeout';
  error?: { code: string; message: string };
  result?: Record<string, unknown>;
  progress?: { stage: string; percent?: number; message?: string };
}
interface App {
  instance: string;
  deviceId: string | null;
  application: { name: string; version: string };
  desired: string;
  state: string;
  volumes: Array<{ name: string; role: string; lastReplicatedAt: string | null }>;
  links: { default?: { domain: string } };
}
interface Move {
  id: string;
  instance: string;
  from: string | null;
  to: string;
  state: 'staging' | 'stopping' | 'replicated' | 'restoring' | 'running' | 'failed' | 'cancelled';
  error: { code: string; message: string } | null;
  lossWindow: { lastReplicatedAt: string | null; ageSeconds: number | null } | null;
  prepareCommandId: string | null;
  startCommandId: string | null;
  createdAt: string;
  finishedAt: string | null;
  resolvedOn: string | null;
  resolution: string | null;
  downtimeMs: number | null;
  totalMs: number | null;
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

const SETTLED = new Set(['refused', 'succeeded', 'failed', 'timeout']);
const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `'…'` for a POSIX shell: the printed lines are meant to be pasted. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function isLoopbackUrl(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || (isIPv4(url.hostname) && url.hostname.startsWith('127.'));
}

/** The ready `docker run` line and compose service for a new device (README, "A Device alone"). */
function deviceSetup(hive: string, name: string, token: string): { tokenFile: string; dockerRun: string; compose: string } {
  const tokenFile = `install -d -m 700 /etc/mosaic && printf '%s\\n' ${shellQuote(token)} > /etc/mosaic/device-token && chmod 600 /etc/mosaic/device-token`;
  const dockerRun = [
    'docker run -d --name mosaic-device --restart unless-stopped',
    '  -v /var/run/docker.sock:/var/run/docker.sock',
    '  -v mosaic-plugin-socket:/tmp/mosaic -v mosaic-device:/var/lib/mosaic/device',
    '  -v /var/lib/mosaic/apps:/var/lib/mosaic/apps -e APPS_DIR=/var/lib/mosaic/apps',
    '  -v /etc/mosaic/passphrase:/run/secrets/passphrase:ro -v /etc/mosaic/device-token:/run/secrets/token:ro',
    `  -e HIVE_URL=${shellQuote(hive)} -e DEVICE_NAME=${shellQuote(name)}`,
    '  -e DEVICE_TOKEN_FILE=/run/secrets/token -e DEVICE_PASSPHRASE_FILE=/run/secrets/passphrase',
    '  -e REPLICA_URL=/var/lib/mosaic/replicas',
    '  mosaic/device',
  ].join(' \\\n');
  const compose = [
    'services:',
    '  device:',
    '    image: mosaic/device',
    '    restart: unless-stopped',
    '    environment:',
    `      HIVE_URL: ${JSON.stringify(hive)}`,
    `      DEVICE_NAME: ${JSON.stringify(name)}`,
    '      DEVICE_TOKEN_FILE: /run/secrets/mosaic_device_token',
    '      DEVICE_PASSPHRASE_FILE: /run/secrets/mosaic_passphrase',
    '      APPS_DIR: /var/lib/mosaic/apps',
    '      REPLICA_URL: /var/lib/mosaic/replicas',
    '    secrets: [mosaic_device_token, mosaic_passphrase]',
    '    volumes:',
    '      - /var/run/docker.sock:/var/run/docker.sock',
    '      - plugin-socket:/tmp/mosaic',
    '      - /var/lib/mosaic/apps:/var/lib/mosaic/apps',
    '      - device-state:/var/lib/mosaic/device',
    'secrets:',
    '  mosaic_device_token: { file: /etc/mosaic/device-token }',
    '  mosaic_passphrase: { file: /etc/mosaic/passphrase }',
    'volumes:',
    '  plugin-socket:',
    '  device-state:',
  ].join('\n');
  return { tokenFile, dockerRun, compose };
}

/** --timeout <seconds>: a whole number from 1 to 86400. */
function timeoutOption(fallback: number): Option {
  return new Option('--timeout <seconds>', 'how long to wait')
    .default(fallback)
    .argParser((value) => {
      if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 86400) throw new InvalidArgumentError('a whole number of seconds from 1 to 86400');
      return Number(value);
    });
}

/** Builds the `mosaic` program; `run` parses and runs it and answers the exit status. */
export function buildCli(io: Io, env: Env): { program: Command; run(argv: string[]): Promise<number> } {
  const program = new Command('mosaic')
    .description("Mosaic's command line: the Hive's REST API, and a replica's restic password.")
    .option('--config-dir <dir>', 'where the login is kept (default: $MOSAIC_CONFIG_DIR, else ~/.config/mosaic)')
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const globals = () => program.opts<{ configDir?: string; json?: boolean }>();
  const store = () => new CredentialStore(globals().configDir ?? configDir(env));
  const hive = () => {
    const { hive: url, token } = store().read();
    return new HiveClient(url, token);
  };
  const json = () => globals().json === true;
  const say = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const note = (text: string) => io.stderr.write(`${text}\n`);
  let exitCode = 0;

  /** A device by id or by its unique name. */
  async function deviceOf(client: HiveClient, idOrName: string): Promise<Device> {
    const devices = await client.get<Device[]>('/api/devices');
    const byId = devices.find((d) => d.id === idOrName);
    if (byId) return byId;
    const named = devices.filter((d) => d.name === idOrName);
    if (named.length === 1) return named[0];
    throw new UsageError(named.length ? `${named.length} devices are named "${idOrName}": give its id.` : `No device has the id or name "${idOrName}".`);
  }

  /** Polls a command until it settles, showing its progress; throws when it did not succeed. */
  async function follow(client: HiveClient, deviceId: string, command: CommandView, title: string, timeoutS: number): Promise<CommandView> {
    const bar = progress(io, title);
    const deadline = Date.now() + timeoutS * 1000;
    let current = command;
    try {
      while (!SETTLED.has(current.status)) {
        bar.update(current.progress?.percent ?? 0, current.progress?.stage ?? current.status);
        if (Date.now() > deadline) throw new UsageError(`${title}: not done within ${timeoutS} s (command ${current.id} is ${current.status}); it goes on on the device.`);
        await sleep(POLL_MS);
        current = await client.get<CommandView>(`/api/devices/${deviceId}/commands/${current.id}`);
      }
      if (current.status === 'succeeded') bar.update(100, 'done');
    } finally {
      bar.stop();
    }
    if (current.status !== 'succeeded') {
      throw new HiveApiError(0, current.error?.code ?? current.status.toUpperCase(), `${title} ${current.status}: ${current.error?.message ?? 'no answer from the device'}`);
    }
    return current;
  }

  const appRow = (app: App, names: Map<string, string>) => {
    const replicated = app.volumes.map((v) => v.lastReplicatedAt).filter((t): t is string => t !== null).sort().pop();
    return [app.instance, app.application.name, app.deviceId ? (names.get(app.deviceId) ?? app.deviceId) : null, app.state, app.desired, replicated, app.links.default?.domain];
  };
  const printApps = async (client: HiveClient, apps: App[]) => {
    if (json()) return printJson(io, apps);
    const names = new Map((await client.get<Device[]>('/api/devices')).map((d) => [d.id, d.name]));
    say(table(['INSTANCE', 'APP', 'DEVICE', 'STATE', 'DESIRED', 'REPLICATED', 'DOMAIN'], apps.map((a) => appRow(a, names))));
  };

  program
    .command('login')
    .description("keep the Hive's URL and admin token (asked for, or read from stdin) for the other commands")
    .requiredOption('--hive <url>', "the Hive's base URL, e.g. http://127.0.0.1:8080")
    .option('--insecure', 'allow plain http to a Hive that is not on this machine (the token then crosses the network unencrypted)')
    .action(async (options: { hive: string; insecure?: boolean }) => {
      let url: URL;
      try {
        url = new URL(options.hive);
      } catch {
        throw new UsageError(`--hive must be an http(s) URL, got "${options.hive}".`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--hive must be an http(s) URL, got "${options.hive}".`);
      if (url.protocol === 'http:' && !isLoopbackUrl(url) && !options.insecure) {
        throw new UsageError(`${options.hive} is plain http to another machine: the admin token would cross the network unencrypted. Use https, or --insecure.`);
      }
      const base = url.toString().replace(/\/+$/, '');
      const token = (await readSecret(io, 'Admin token: ')).trim();
      await new HiveClient(base, token).get('/api/account'); // a wrong token is refused here, not at the next command
      store().write({ hive: base, token });
      note(`Logged in to ${base}; the token is kept in ${store().file} (mode 600).`);
    });

  program
    .command('logout')
    .description('forget the kept token')
    .action(() => {
      note(store().remove() ? `Removed ${store().file}.` : 'Not logged in.');
    });

  const devices = program.command('devices').description('the devices of the account');
  devices
    .command('ls')
    .description('list the devices')
    .action(async () => {
      const list = await hive().get<Device[]>('/api/devices');
      if (json()) return printJson(io, list);
      say(table(['ID', 'NAME', 'ONLINE', 'AUTHENTICATED', 'VERSION', 'LAST SEEN'], list.map((d) => [d.id, d.name, d.online, d.authenticated, d.version, d.lastSeenAt])));
    });
  devices
    .command('add')
    .description('register a device; prints its token (shown only now), the docker run line and a compose service')
    .argument('<name>', 'the name the Hive shows')
    .option('--hive-url <url>', 'the Hive URL the device uses, when it differs from the one logged in to')
    .action(async (name: string, options: { hiveUrl?: string }) => {
      const client = hive();
      const { body } = await client.post<{ id: string; name: string; token: string }>('/api/devices', { name });
      const setup = deviceSetup(options.hiveUrl ?? client.baseUrl, body.name, body.token);
      if (json()) return printJson(io, { ...body, ...setup });
      say(`Device "${body.name}" registered: ${body.id}. Its token is shown only now.

On the device's machine, keep the token and the account passphrase in files only root reads:

  ${setup.tokenFile}
  printf '%s\\n' '<the account passphrase>' > /etc/mosaic/passphrase && chmod 600 /etc/mosaic/passphrase

then start the Device:

${setup.dockerRun}

or, with Docker Compose, this service:

${setup.compose}
`);
    });
  devices
    .command('rm')
    .description('revoke a device: its token stops working')
    .argument('<device>', 'id or name')
    .action(async (idOrName: string) => {
      const client = hive();
      const device = await deviceOf(client, idOrName);
      await client.request('DELETE', `/api/devices/${device.id}`);
      note(`Device "${device.name}" (${device.id}) revoked.`);
    });

  program
    .command('catalog')
    .description('the apps the Hive can install')
    .action(async () => {
      const apps = await hive().get<Array<{ name: string; title: string; version: string; description: string }>>('/api/catalog');
      if (json()) return printJson(io, apps);
      say(table(['APP', 'VERSION', 'TITLE'], apps.map((a) => [a.name, a.version, a.title])));
    });

  const apps = program.command('apps').description('the apps of the account');
  apps
    .command('ls')
    .description('list the apps, their devices and states')
    .action(async () => {
      const client = hive();
      await printApps(client, await client.get<App[]>('/api/apps'));
    });
  apps
    .command('install')
    .description('install a catalog app on a device and start it')
    .argument('<app>', 'the catalog app (mosaic catalog)')
    .requiredOption('--device <device>', 'id or name')
    .option('--var <NAME=value...>', "the app's variables", [])
    .option('--domain <domain>', 'the default link domain')
    .addOption(timeoutOption(600))
    .action(async (app: string, options: { device: string; var: string[]; domain?: string; timeout: number }) => {
      const client = hive();
      const device = await deviceOf(client, options.device);
      const variables: Record<string, string> = {};
      for (const pair of options.var) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError(`--var takes NAME=value, got "${pair}".`);
        variables[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const { body } = await client.post<{ instance: string; command: CommandView }>(`/api/devices/${device.id}/apps`, {
        app,
        variables,
        ...(options.domain ? { domain: options.domain } : {}),
        wait: false,
      });
      note(`Installing ${app} on "${device.name}" as ${body.instance}`);
      await follow(client, device.id, body.command, `install ${app}`, options.timeout);
      await printApps(client, [await client.get<App>(`/api/apps/${body.instance}`)]);
    });
  for (const action of ['start', 'stop'] as const) {
    apps
      .command(action)
      .description(action === 'start' ? 'start an app on its device' : 'stop an app (with a final replication)')
      .argument('<instance>')
      .action(async (instance: string) => {
        const client = hive();
        const { body } = await client.post<{ app: App | null; command: CommandView }>(`/api/apps/${instance}/${action}`, { timeoutSeconds: 600 }, 600_000);
        const app = await client.get<App>(`/api/apps/${instance}`);
        if (app.deviceId) await follow(client, app.deviceId, body.command, `${action} ${instance}`, 600);
        await printApps(client, [await client.get<App>(`/api/apps/${instance}`)]);
      });
  }
  apps
    .command('rm')
    .description("stop an app and remove it from its device and the Hive (its keys and replicas stay)")
    .argument('<instance>')
    .action(async (instance: string) => {
      const client = hive();
      const app = await client.get<App>(`/api/apps/${instance}`);
      const { body } = await client.post<{ command: CommandView }>(`/api/apps/${instance}/stop`, { remove: true, timeoutSeconds: 600 }, 600_000);
      if (app.deviceId) await follow(client, app.deviceId, body.command, `remove ${instance}`, 600);
      note(`App ${instance} removed; its keys and replicas stay (mosaic replica password).`);
    });
  apps
    .command('move')
    .description('move an app to another device: a final replication, then a restore there')
    .argument('<instance>')
    .requiredOption('--to <device>', 'id or name')
    .option('--force', 'go on when the first device cannot give a final replica (what changed since the last one is lost)')
    .option('--no-stage', 'stop the app first and restore all of its data then (by default the new device copies it ahead, while the app runs)')
    .addOption(timeoutOption(1800))
    .action(async (instance: string, options: { to: string; force?: boolean; stage: boolean; timeout: number }) => {
      const client = hive();
      const to = await deviceOf(client, options.to);
      const body = { to: to.id, force: options.force === true, stage: options.stage, wait: false };
      let move = (await client.post<Move>(`/api/apps/${instance}/move`, body)).body;
      const bar = progress(io, `move to ${to.name}`);
      const deadline = Date.now() + options.timeout * 1000;
      try {
        while (move.finishedAt === null) {
          let percent = { staging: 0, stopping: 30, replicated: 45, restoring: 50, running: 100, failed: 100, cancelled: 100 }[move.state];
          if (move.state === 'staging' && move.prepareCommandId) {
            const prepare = await client.get<CommandView>(`/api/devices/${move.to}/commands/${move.prepareCommandId}`).catch(() => undefined);
            percent += ((prepare?.progress?.percent ?? 0) * 30) / 100;
          }
          if (move.state === 'restoring' && move.startCommandId) {
            const start = await client.get<CommandView>(`/api/devices/${move.to}/commands/${move.startCommandId}`).catch(() => undefined);
            percent += (start?.progress?.percent ?? 0) / 2;
          }
          bar.update(percent, move.state);
          if (Date.now() > deadline) throw new UsageError(`The move is not done within ${options.timeout} s (${move.state}); it goes on: mosaic apps ls.`);
          await sleep(POLL_MS);
          move = await client.get<Move>(`/api/moves/${move.id}`);
        }
        bar.update(100, move.state);
      } finally {
        bar.stop();
      }
      if (move.state === 'failed') throw new HiveApiError(0, move.error?.code ?? 'FAILED', `The move failed: ${move.error?.message ?? 'no reason given'}`);
      if (move.state === 'cancelled') throw new HiveApiError(0, 'CANCELLED', `The move was cancelled: ${move.resolution ?? ''}`);
      if (move.lossWindow) note(`Forced: what changed after ${move.lossWindow.lastReplicatedAt ?? 'the start (never replicated)'} is lost.`);
      note(`Moved in ${seconds(move.totalMs)}; the app was down for ${seconds(move.downtimeMs)}.`);
      if (json()) return printJson(io, move);
      await printApps(client, [await client.get<App>(`/api/apps/${instance}`)]);
    });
  apps
    .command('run')
    .description("run a command the app declares (x-mosaic.commands); its output is the app's, the exit status too")
    .argument('<instance>')
    .argument('<command>')
    .argument('[args...]', 'NAME=value pairs')
    .addOption(timeoutOption(120))
    .action(async (instance: string, command: string, pairs: string[], options: { timeout: number }) => {
      const args: Record<string, string> = {};
      for (const pair of pairs) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError(`arguments are NAME=value, got "${pair}".`);
        args[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const client = hive();
      const { body } = await client.post<{ command: CommandView }>(
        `/api/apps/${instance}/commands`,
        { command, args, timeoutSeconds: Math.min(options.timeout, 600) },
        options.timeout * 1000,
      );
      if (body.command.status !== 'succeeded') {
        throw new HiveApiError(0, body.command.error?.code ?? body.command.status.toUpperCase(), `${command}: ${body.command.status}${body.command.error ? `: ${body.command.error.message}` : ''}`);
      }
      const result = body.command.result as { exitCode: number; stdout: string; stderr: string; truncated: boolean };
      if (json()) return printJson(io, result);
      io.stdout.write(result.stdout);
      io.stderr.write(result.stderr);
      exitCode = result.exitCode;
    });

  const moves = program.command('moves').description("an app's moves between devices");
  const printMoves = (list: Move[]) =>
    say(table(
      ['ID', 'STATE', 'FROM', 'TO', 'DOWNTIME', 'TOTAL', 'RESOLVED ON'],
      list.map((m) => [m.id, m.state, m.from ?? '-', m.to, seconds(m.downtimeMs), seconds(m.totalMs), m.resolvedOn ?? '-']),
    ));
  moves
    .command('ls')
    .description("an app's moves, newest first, with each one's downtime and total time")
    .argument('<instance>')
    .action(async (instance: string) => {
      const list = await hive().get<Move[]>(`/api/apps/${instance}/moves`);
      if (json()) return printJson(io, list);
      printMoves(list);
    });
  moves
    .command('cancel')
    .description('cancel a move that has not ended: the app is left where its data is safe')
    .argument('<id>', 'the move id (mosaic moves ls <instance>)')
    .action(async (id: string) => {
      const { body: move } = await hive().post<Move>(`/api/moves/${encodeURIComponent(id)}/cancel`, {});
      if (json()) return printJson(io, move);
      printMoves([move]);
      note(move.resolution ?? 'Cancelled.');
    });

  const replica = program.command('replica').description("an app volume's replica");
  replica
    .command('password')
    .description("print the restic password of a volume's replica, to open it with stock restic")
    .argument('<volume>', 'mosaic-<instance>-app or mosaic-<instance>-link')
    .option('--passphrase-file <file>', 'read the account passphrase from this file instead of asking')
    .action(async (volume: string, options: { passphraseFile?: string }) => {
      const parsed = parseVolumeName(volume);
      if (!parsed) throw new UsageError(`"${volume}" is not an app volume name (mosaic-<instance>-app or mosaic-<instance>-link).`);
      const keys = await hive().get<Array<{ role: string; encryptedPrivateKey: string }>>(`/api/apps/${parsed.instance}/keys`);
      const key = keys.find((k) => k.role === parsed.role);
      if (!key) throw new UsageError(`The Hive holds no ${parsed.role} key for ${parsed.instance}.`);
      const passphrase = options.passphraseFile
        ? readFileSync(options.passphraseFile, 'utf8').replace(/\r?\n$/, '')
        : await readSecret(io, 'Account passphrase: ');
      const password = await replicaPasswordOf(key.encryptedPrivateKey, passphrase, volume);
      say(password);
      note(`Open the replica with: RESTIC_PASSWORD=<that> restic -r <REPLICA_URL>/${volume} snapshots`);
    });

  return {
    program,
    async run(argv: string[]): Promise<number> {
      try {
        await program.parseAsync(argv, { from: 'user' });
        return exitCode;
      } catch (err) {
        if (err instanceof CommanderError) return err.exitCode;
        if (err instanceof HiveApiError) note(`mosaic: ${err.code}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}`);
        else if (err instanceof UsageError || err instanceof CredentialsError || err instanceof WrongPassphraseError) note(`mosaic: ${err.message}`);
        else note(`mosaic: ${(err as Error)?.message ?? String(err)}`);
        return 1;
      }
    },
  };
}
