#!/usr/bin/env bash
# The test command: sets up what the tests need (Docker engine, Compose v2, restic, test image,
# node modules, a build, the three container images), then runs every tier. Extra arguments go to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 first on PATH for everything below (installed under /opt/mosaic when missing).
. scripts/lib/node.sh
mosaic_use_node

bash scripts/setup-test-env.sh
bash scripts/install-deps.sh
npm run --silent lint
npm run --silent build
# The container deployment test runs the images as users do; built from a local base (no registry).
bash scripts/build-images.sh
exec npx jest --ci "$@"
