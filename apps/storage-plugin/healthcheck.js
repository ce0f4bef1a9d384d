#!/usr/bin/env node
// The storage plugin image's HEALTHCHECK: GET /health on the control socket (STORAGE_PLUGIN_SOCKET),
// exit 0 when it answers 200, 1 otherwise. Plain JavaScript so it starts in milliseconds, without
// loading the plugin.
'use strict';
const http = require('node:http');

const socketPath = process.env.STORAGE_PLUGIN_SOCKET || '/tmp/mosaic/storage.sock';
const req = http.get({ socketPath, path: '/health', timeout: 4000 }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => (body += chunk));
  res.on('end', () => {
    console.log(body);
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
});
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (err) => {
  console.log(`control socket ${socketPath} unreachable: ${err.message}`);
  process.exit(1);
});
