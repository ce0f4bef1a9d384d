#!/usr/bin/env node
// The local Mosaic: starts the built Hive, storage plugin and Device as child processes (argv
// arrays, no shell), wires them together through the Hive's REST API, and installs the demo app.
// State lives in MOSAIC_HOME (default /var/lib/mosaic/local); run it again and it carries on.
'use strict';
const { spawn, execFile } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const home = process.env.MOSAIC_HOME || '/var/lib/mosaic/local';
const hivePort = Number(process.env.HIVE_PORT || 8080);
const demoApp = process.env.MOSAIC_DEMO_APP || 'static-site';
const demoPort = process.env.MOSAIC_DEMO_PORT || '8090';
const hiveUrl = `http://127.0.0.1:${hivePort}`;
const children = [];

function say(line) {
  process.stdout.write(`[mosaic] ${line}\n`);
}

/** A secret kept in MOSAIC_HOME (mode 0600), made once. */
function secret(name, make) {
  const file = path.join(home, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, make(), { mode: 0o600 });
  return { file, value: fs.readFileSync(file, 'utf8').trim() };
}

function start(name, script, env) {
  const log = fs.openSync(path.join(home, 'logs', `${name}.log`), 'a');
  const child = spawn(process.execPath, [path.join(root, 'dist/apps', script, 'main.js')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME || '/root', ...env },
    stdio: ['ignore', log, log],
  });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} stopped (${signal || `exit ${code}`}); see ${path.join(home, 'logs', `${name}.log`)}`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

const adminToken = () => secret('admin-token', () => randomBytes(24).toString('hex')).value;

async function api(method, route, body) {
  const response = await fetch(`${hiveUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${adminToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function dockerPort(instance) {
  return new Promise((resolve) =>
    execFile('docker', ['ps', '--filter', `label=com.docker.compose.project=mosaic-${instance}`, '--format', '{{.Ports}}'], (err, stdout) =>
      resolve(err ? '' : stdout.trim()),
    ),
  );
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping Mosaic (apps keep running)');
  for (const child of children.reverse()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function main() {
  fs.mkdirSync(path.join(home, 'logs'), { recursive: true, mode: 0o700 });
  const passphrase = secret('passphrase', () => randomBytes(18).toString('base64url'));

  start('hive', 'hive', { HIVE_ADMIN_TOKEN: adminToken(), HIVE_PORT: String(hivePort), HIVE_HOST: '127.0.0.1', HIVE_DB: path.join(home, 'hive.db') });
  await until('the Hive answering', async () => (await fetch(`${hiveUrl}/api/health`)).ok);
  say(`Hive at ${hiveUrl}`);

  const pluginSocket = path.join(home, 'storage.sock');
  const withPlugin = fs.existsSync(path.join(root, 'dist/apps/storage-plugin/main.js'));
  if (withPlugin) {
    start('storage-plugin', 'storage-plugin', {
      STORAGE_PLUGIN_SOCKET: pluginSocket,
      STORAGE_DATA_DIR: path.join(home, 'volumes'),
      REPLICA_URL: process.env.REPLICA_URL || path.join(home, 'replicas'),
    });
    await until('the storage plugin answering', () => fs.existsSync(pluginSocket));
    say('storage plugin running');
  }

  let token = fs.existsSync(path.join(home, 'device-token')) ? fs.readFileSync(path.join(home, 'device-token'), 'utf8').trim() : '';
  let deviceId = fs.existsSync(path.join(home, 'device-id')) ? fs.readFileSync(path.join(home, 'device-id'), 'utf8').trim() : '';
  if (!token || (await api('GET', `/api/devices/${deviceId}`)).status !== 200) {
    const created = await api('POST', '/api/devices', { name: os.hostname().slice(0, 64) || 'local' });
    if (created.status !== 201) throw new Error(`cannot add the device: ${JSON.stringify(created.body)}`);
    ({ id: deviceId, token } = created.body);
    fs.writeFileSync(path.join(home, 'device-token'), token, { mode: 0o600 });
    fs.writeFileSync(path.join(home, 'device-id'), deviceId, { mode: 0o600 });
  }
  start('device', 'device', {
    HIVE_URL: hiveUrl,
    DEVICE_TOKEN: token,
    DEVICE_PASSPHRASE_FILE: passphrase.file,
    APPS_DIR: path.join(home, 'apps'),
    STATE_DIR: path.join(home, 'device'),
    VOLUMES_DIR: path.join(home, 'volumes'),
    STORAGE_PLUGIN_SOCKET: pluginSocket,
  });
  await until('the device connecting', async () => (await api('GET', `/api/devices/${deviceId}`)).body.authenticated);
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
  }
  const ports = await until('the demo app running', () => dockerPort(app.instance));
  say(`demo app "${demoApp}" (instance ${app.instance}) is running: ${ports}`);
  say(`open it: http://127.0.0.1:${demoPort}/`);
  say('');
  say(`Hive REST API: ${hiveUrl}/api (admin token in ${path.join(home, 'admin-token')})`);
  say(`  list apps:      curl -s -H "Authorization: Bearer $(cat ${path.join(home, 'admin-token')})" ${hiveUrl}/api/apps`);
  say(`  install an app: curl -s -H "Authorization: Bearer $(cat ${path.join(home, 'admin-token')})" -H 'content-type: application/json' -d '{"app":"notes"}' ${hiveUrl}/api/devices/${deviceId}/apps`);
  say(`  stop an app:    curl -s -X POST -H "Authorization: Bearer $(cat ${path.join(home, 'admin-token')})" ${hiveUrl}/api/apps/<instance>/stop`);
  say(`  move an app:    curl -s -H "Authorization: Bearer $(cat ${path.join(home, 'admin-token')})" -H 'content-type: application/json' -d '{"to":"<device id>"}' ${hiveUrl}/api/apps/<instance>/move`);
  say(`logs in ${path.join(home, 'logs')}; Ctrl-C stops Mosaic`);
}

main().catch((err) => {
  say(`failed: ${err.message}`);
  shutdown(1);
});
