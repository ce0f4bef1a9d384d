#!/usr/bin/env bash
# Runs Mosaic on this machine as users do: builds the images, starts compose.yaml's Hive and
# Device containers on the local Docker engine (the Device installs the storage plugin
# container), installs the demo app and says where to open it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 first on PATH for everything below (installed under /opt/mosaic when missing).
. scripts/lib/node.sh
mosaic_use_node

bash scripts/setup-test-env.sh
bash scripts/build-images.sh
# The `mosaic` command the closing lines show runs from this clone (node_modules and its bundle).
bash scripts/install-deps.sh
npx nest build cli
exec node scripts/mosaic-local.js "$@"
