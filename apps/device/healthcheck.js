#!/usr/bin/env node
// The Device image's HEALTHCHECK: GET /health on MONITOR_ADDRESS, exit 0 when healthy, 1 otherwise.
// Plain JavaScript so it starts in milliseconds (it runs every 30 s), without loading the Device.
'use strict';
const http = require('node:http');

const address = process.env.MONITOR_ADDRESS || '127.0.0.1:9410';
if (address === 'off') {
  console.log('health endpoint is off (MONITOR_ADDRESS=off); nothing to check');
  process.exit(0);
}
const match = /^(.+):(\d+)$/.exec(address);
if (!match) {
  console.log(`MONITOR_ADDRESS is not host:port: ${address}`);
  process.exit(1);
}
if (match[2] === '0') {
  console.log('MONITOR_ADDRESS uses port 0 (a free port picked at start), which a health check cannot know; set a fixed port');
  process.exit(1);
}
// A device listening on every interface is reached on loopback from inside its container.
const host = match[1] === '0.0.0.0' ? '127.0.0.1' : match[1];
const req = http.get({ host, port: Number(match[2]), path: '/health', timeout: 4000 }, (res) => {
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
  console.log(`health endpoint unreachable on ${host}:${match[2]}: ${err.message}`);
  process.exit(1);
});
