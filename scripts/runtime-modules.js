#!/usr/bin/env node
// Copies only the node modules one app needs at run time, so each image carries its own app's
// production dependencies and not the other two's.
//
//   node scripts/runtime-modules.js <app> <destination node_modules>
//
// What the app needs: the packages its webpack bundle (dist/apps/<app>/main.js) requires, plus
// the ones Nest loads by name at run time (LOADED_BY_NAME), and everything those depend on,
// resolved through package-lock.json the way Node resolves them. Run it where `npm ci --omit=dev`
// has installed node_modules (the Dockerfile's prod-deps stage); it fails loudly when a needed
// package is not there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * Packages required by name at run time, which no static scan can see: Nest's platforms; for the
 * Device, dockerode (loaded through Node's own require with stubs for what it never uses,
 * apps/device/src/docker/dockerode-loader.ts) and openpgp, which only its key jobs load (a child
 * process, apps/device/src/keystore/key-job.ts).
 */
const LOADED_BY_NAME = {
  device: ['dockerode', 'openpgp'],
  hive: ['@nestjs/platform-express', '@nestjs/platform-socket.io'],
  'storage-plugin': [],
};

function fail(message) {
  process.stderr.write(`runtime-modules: ${message}\n`);
  process.exit(1);
}

const [app, destination] = process.argv.slice(2);
if (!app || !destination || !(app in LOADED_BY_NAME)) fail(`usage: runtime-modules.js <${Object.keys(LOADED_BY_NAME).join('|')}> <destination>`);
const root = process.cwd();
const bundle = path.join(root, 'dist/apps', app, 'main.js');
if (!fs.existsSync(bundle)) fail(`${bundle} does not exist: build the app first`);
const { packages } = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));

/** What no app loads at run time: source maps, type declarations, TypeScript sources, docs. */
const NOT_RUN = /\.(map|ts|mts|cts|md|markdown)$/i;

/** `a/b/c` → `a`, `@scope/x/y` → `@scope/x`: the package a require names. */
function packageName(request) {
  const parts = request.split('/');
  return request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const required = new Set(LOADED_BY_NAME[app]);
for (const match of fs.readFileSync(bundle, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
  const request = match[1];
  if (request.startsWith('.') || request.startsWith('/') || request.startsWith('node:')) continue;
  required.add(packageName(request));
}

/** Where Node finds `name` from the package at lockfile path `from` ('' for the project). */
function resolve(from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf('node_modules/');
    dir = cut <= 0 ? '' : dir.slice(0, cut - 1);
  }
}

const needed = new Set();
const queue = [...required].map((name) => {
  const found = resolve('', name);
  if (!found) fail(`${app} requires ${name}, which package-lock.json does not have`);
  return found;
});
while (queue.length) {
  const at = queue.pop();
  if (needed.has(at)) continue;
  needed.add(at);
  const entry = packages[at];
  // Optional peers (Nest's platforms, say) are the app's choice: LOADED_BY_NAME names the ones it uses.
  const peers = Object.keys(entry.peerDependencies ?? {}).filter((name) => !entry.peerDependenciesMeta?.[name]?.optional);
  const optional = { ...entry.optionalDependencies, ...Object.fromEntries(peers.map((name) => [name, '*'])) };
  for (const name of Object.keys({ ...entry.dependencies, ...optional })) {
    // Type declarations some packages list as dependencies are never loaded at run time.
    if (name.startsWith('@types/')) continue;
    const found = resolve(at, name);
    if (found) queue.push(found);
    else if (!(name in optional)) fail(`${at} depends on ${name}, which package-lock.json does not have`);
  }
}

// Dev-only entries never reach the image (they are not installed with --omit=dev).
const paths = [...needed].filter((at) => !packages[at].dev).sort();
for (const at of paths) {
  const source = path.join(root, at);
  if (!fs.existsSync(source)) fail(`${at} is needed by ${app} but not installed (run npm ci --omit=dev first)`);
  const target = path.join(destination, path.relative('node_modules', at));
  // A nested package is copied with its parent's folder already: copy a folder once.
  const nested = path.join(source, 'node_modules');
  fs.cpSync(source, target, {
    recursive: true,
    force: true,
    verbatimSymlinks: true,
    filter: (src) => src === source || (!src.startsWith(nested) && !NOT_RUN.test(src)),
  });
}
let bytes = 0;
for (const file of fs.readdirSync(destination, { recursive: true, withFileTypes: true })) {
  if (file.isFile()) bytes += fs.statSync(path.join(file.parentPath, file.name)).size;
}
process.stdout.write(`runtime-modules: ${app} needs ${paths.length} packages (${(bytes / 1e6).toFixed(1)} MB)\n`);
