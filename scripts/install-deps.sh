#!/usr/bin/env bash
# Installs the node modules from the lock file when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [maj, min] = process.versions.node.split(".").map(Number); if (maj < 20 || (maj === 20 && min < 19)) { console.error(`Mosaic needs Node.js 20.19 or newer; this is ${process.version}`); process.exit(1); }'
stamp=node_modules/.mosaic-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
