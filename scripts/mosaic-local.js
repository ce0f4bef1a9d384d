#!/usr/bin/env node
// The local Mosaic, the way users run it: compose.yaml's Hive and Device containers on this
// machine's engine (the Device installs the storage plugin container itself), wired together
// through the Hive's REST API, then the demo app installed. Child processes get argv arrays, no
// shell. State lives in MOSAIC_HOME (default /var/lib/mosaic/local); run it again and it carries on.
'use strict';
const { execFile } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { version } = require('../package.json');

const root = path.resolve(__dirname, '..');
const home = process.env.MOSAIC_HOME || '/var/lib/mosaic/local';
const hivePort = Number(process.env.HIVE_PORT || 8080);
const demoApp = process.env.MOSAIC_DEMO_APP || 'static-site';
const demoPort = process.env.MOSAIC_DEMO_PORT || '8090';
const hiveUrl = `http://127.0.0.1:${hivePort}`;
const envFile = path.join(home, 'mosaic.env');

function say(line) {
  process.stdout.write(`[mosaic] ${line}\n`);
}

/** A secret kept in MOSAIC_HOME (mode 0600), made once; `made` says whether it is new. */
function secret(name, make) {
  const file = path.join(home, name);
  const made = !fs.existsSync(file);
  if (made) fs.writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  return { file, made, value: fs.readFileSync(file, 'utf8').trim() };
}

fs.mkdirSync(home, { recursive: true, mode: 0o700 });
const adminToken = secret('admin-token', () => randomBytes(24).toString('hex'));
const passphrase = secret('passphrase', () => randomBytes(18).toString('base64url'));

/** The settings compose.yaml reads, kept in MOSAIC_HOME/mosaic.env (mode 0600: it holds the admin token). */
function writeSettings(extra = {}) {
  const settings = {
    MOSAIC_VERSION: version,
    HIVE_ADMIN_TOKEN: adminToken.value,
    HIVE_PORT: String(hivePort),
    // The device reaches this Hive at http://hive:8080, on the compose project's network on this machine.
    HIVE_ALLOW_INSECURE: 'true',
    DEVICE_PASSPHRASE_FILE: passphrase.file,
    DEVICE_TOKEN_FILE: path.join(home, 'device-token'),
    DEVICE_NAME: (os.hostname() || 'local').slice(0, 64),
    REPLICA_URL: process.env.REPLICA_URL || '',
    ...extra,
  };
  const text = Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n');
  fs.writeFileSync(envFile, `${text}\n`, { mode: 0o600 });
}

function docker(...argv) {
  return new Promise((resolve, reject) =>
    execFile('docker', argv, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`docker ${argv.join(' ')} failed:\n${stderr.trim()}`)) : resolve(stdout.trim()),
    ),
  );
}

function compose(...args) {
  return docker('compose', '--project-directory', root, '-f', path.join(root, 'compose.yaml'), '--env-file', envFile, ...args);
}

async function api(method, route, body) {
  const response = await fetch(`${hiveUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${adminToken.value}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** An error that retrying cannot help. */
class FatalError extends Error {}

/**
 * Retries `check` until it returns something truthy. Each try gets 3 s and an abort signal: until
 * a container listens, Docker's port proxy may accept a connection and hold it, and such a fetch
 * would otherwise wait forever (and, holding no timer, let Node exit with the work unfinished).
 */
async function until(what, check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(), 3000);
    try {
      const value = await check(attempt.signal);
      if (value) return value;
    } catch (err) {
      if (err instanceof FatalError) throw err;
      // not there yet
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function read(name) {
  const file = path.join(home, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
}

async function main() {
  // compose.yaml names the token file as a secret; until the Hive gives a token it stays empty.
  if (!fs.existsSync(path.join(home, 'device-token'))) fs.writeFileSync(path.join(home, 'device-token'), '', { mode: 0o600 });
  let token = read('device-token');
  let deviceId = read('device-id');
  writeSettings();

  await compose('up', '-d', 'hive');
  await until('the Hive answering', async (signal) => (await fetch(`${hiveUrl}/api/health`, { signal })).ok);
  say(`Hive at ${hiveUrl}`);
  // A Hive whose database outlived MOSAIC_HOME knows another passphrase: no device could connect.
  const account = await api('GET', '/api/account');
  if (passphrase.made && account.body && account.body.passphrase.set) {
    throw new Error(
      `the Hive's database (volume mosaic_hive-data) is from an earlier local Mosaic whose passphrase is gone with ${home}; ` +
        `start afresh with: docker compose --project-directory ${root} --env-file ${envFile} down -v  (this removes that Hive's data)`,
    );
  }

  if (!token || (await api('GET', `/api/devices/${deviceId}`)).status !== 200) {
    const created = await api('POST', '/api/devices', { name: (os.hostname() || 'local').slice(0, 64) });
    if (created.status !== 201) throw new Error(`cannot add the device: ${JSON.stringify(created.body)}`);
    ({ id: deviceId, token } = created.body);
    fs.writeFileSync(path.join(home, 'device-token'), `${token}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(home, 'device-id'), `${deviceId}\n`, { mode: 0o600 });
  }
  await compose('up', '-d', 'device');
  say('device container started; it installs the storage plugin container and connects');
  await until(
    'the device connecting',
    async () => {
      if ((await api('GET', `/api/devices/${deviceId}`)).body.authenticated) return true;
      // A device that refuses to go on (a bad setting, a refused passphrase) exits 78 and compose
      // restarts it, again and again: say why at once instead of waiting.
      const [state] = JSON.parse(`[${(await compose('ps', '-a', '--format', 'json', 'device')).split('\n').filter(Boolean).join(',')}]`);
      const restarts = state ? Number(await docker('inspect', '-f', '{{.RestartCount}}', state.ID)) : 0;
      if (restarts > 0) {
        const logs = (await compose('logs', '--no-color', '--no-log-prefix', '--tail', '60', 'device')).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\n');
        const cause = (logs.filter((l) => /ERROR|config:/.test(l)).pop() || logs.filter(Boolean).pop() || '').trim();
        throw new FatalError(`the device keeps stopping (${restarts} restarts); its log says: ${cause}`);
      }
      return false;
    },
    180_000,
  );
  say(`device ${deviceId} connected`);

  const apps = (await api('GET', '/api/apps')).body || [];
  let app = Array.isArray(apps) ? apps.find((a) => a.application && a.application.name === demoApp) : undefined;
  if (!app) {
    say(`installing the demo app "${demoApp}"`);
    const installed = await api('POST', `/api/devices/${deviceId}/apps`, { app: demoApp, variables: { HTTP_PORT: demoPort }, timeoutSeconds: 300 });
    if (installed.status >= 300 || installed.body.command.status !== 'succeeded') {
      throw new Error(`the demo app did not start: ${JSON.stringify(installed.body)}`);
    }
    app = installed.body.app;
  } else if (app.state !== 'running') {
    await api('POST', `/api/apps/${app.instance}/start`, { timeoutSeconds: 300 });
  }
  await until('the demo app answering', async (signal) => (await fetch(`http://127.0.0.1:${demoPort}/`, { signal })).ok);

  const composeCmd = `docker compose --project-directory ${root} --env-file ${envFile}`;
  const cli = 'mosaic';
  say(`demo app "${demoApp}" (instance ${app.instance}) is running`);
  say(`open it: http://127.0.0.1:${demoPort}/`);
  say('');
  say(`Console: ${hiveUrl}/ (its first run asks for the admin token in ${adminToken.file}; the passphrase is in ${passphrase.file})`);
  say(`Command line (the REST API it uses is described at ${hiveUrl}/api/docs):`);
  say(`  alias mosaic='${process.execPath} ${path.join(root, 'apps/cli/mosaic.js')}'`);
  say(`  log in once:    ${cli} login --hive ${hiveUrl} < ${adminToken.file}`);
  say(`  list apps:      ${cli} apps ls`);
  say(`  install an app: ${cli} apps install notes --device ${deviceId}`);
  say(`  stop an app:    ${cli} apps stop <instance>`);
  say(`  move an app:    ${cli} apps move <instance> --to <device>`);
  say(`                  (another device: ${cli} devices add other prints its docker run line)`);
  say('');
  say('Operations:');
  say(`  device health:  docker exec mosaic-device-1 node dist/apps/device/healthcheck.js`);
  say(`  logs:           ${composeCmd} logs -f device`);
  say(`  stop Mosaic:    ${composeCmd} stop   (apps keep running: they are containers of their own)`);
}

main().catch((err) => {
  say(`failed: ${err.message}`);
  process.exit(1);
});
