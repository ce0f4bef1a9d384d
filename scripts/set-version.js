#!/usr/bin/env node
// Sets the version in package.json (the one the apps report, compiled into their bundles) for an
// image build that says which version it is: the Dockerfile's VERSION build argument.
//
//   node scripts/set-version.js <semver>      (an empty argument changes nothing)
'use strict';
const fs = require('node:fs');

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const version = process.argv[2] ?? '';
if (version === '') process.exit(0);
if (!SEMVER.test(version)) {
  process.stderr.write(`set-version: "${version}" is not a semantic version\n`);
  process.exit(1);
}
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
if (pkg.version !== version) {
  pkg.version = version;
  fs.writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
}
