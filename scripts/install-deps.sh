#!/usr/bin/env bash
# Installs the node modules from the lock file when they are missing or stale, with the Node.js
# line Mosaic runs on (scripts/lib/node.sh installs it when the machine's is another one).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/node.sh
mosaic_use_node
# The stamp is the lock file and Node's ABI: a new Node needs the native addon built again.
stamp=node_modules/.mosaic-lock
want=$(cat package-lock.json; echo "node-abi $(node -p process.versions.modules)")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] npm ci (Node $(node -v))"
  # node-gyp builds the native addon (better-sqlite3) offline against the running Node's own
  # headers, whatever an npmrc says (a machine's nodedir may name another Node's).
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  if [ -f "$prefix/include/node/node.h" ]; then export npm_config_nodedir=$prefix; fi
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$want" > "$stamp"
fi
