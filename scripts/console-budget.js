#!/usr/bin/env node
// The Console's first-load budget: the JS and CSS index.html loads (entry, preloaded chunks,
// stylesheets), gzipped as the Hive serves them, must stay within 150 KB. Run after vite build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const BUDGET_BYTES = 150 * 1024;
const dir = path.join(__dirname, '../dist/apps/console');
const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let total = 0;
for (const file of files) {
  const gzipped = zlib.gzipSync(fs.readFileSync(path.join(dir, file)), { level: 9 }).length;
  total += gzipped;
  process.stdout.write(`console-budget: ${file} ${(gzipped / 1024).toFixed(1)} KB gzipped\n`);
}
process.stdout.write(`console-budget: first load ${(total / 1024).toFixed(1)} KB of JS+CSS gzipped (budget ${BUDGET_BYTES / 1024} KB)\n`);
if (files.length === 0 || total > BUDGET_BYTES) {
  process.stderr.write(files.length === 0 ? 'console-budget: index.html loads no assets\n' : 'console-budget: over budget\n');
  process.exit(1);
}
