#!/usr/bin/env bash
# Runs Mosaic on this machine: the reference Hive, the storage plugin and a Device on the local
# Docker engine, then installs the demo app and says where to open it. Ctrl-C stops Mosaic (the
# apps keep running: they are containers of their own).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test-env.sh
bash scripts/install-deps.sh
npm run --silent build
exec node scripts/mosaic-local.js "$@"
