#!/usr/bin/env bash
# Builds the Mosaic images mosaic/device, mosaic/storage-plugin and mosaic/hive, each tagged with
# package.json's version and :latest, then prints their sizes.
#
#   scripts/build-images.sh [--only device|hive|storage-plugin] [--no-cache] [--verbose]
#
# Environment:
#   BASE_IMAGE     the Node.js 24 Debian trixie image to build on, used as given (e.g.
#                  node:24-trixie-slim). Unset: scripts/make-base-image.sh builds (once) the
#                  registry-free local mosaic/node-base:24-trixie, and that is used.
#   IMAGE_PREFIX   repository prefix of the tags (default mosaic)
#   BUILD_CA_FILE  PEM file of extra CAs npm needs behind a TLS-inspecting proxy (build stages
#                  only). Unset: the host's locally added CAs in /usr/local/share/ca-certificates.
#   VERSION        the version the images report and are tagged with (default package.json's;
#                  the upgrade test builds newer ones from the same code)
#   SOURCE_URL     value of the org.opencontainers.image.source label (default empty)
#   LOG_DIR        where each build's full log goes (default /tmp/mosaic-image-builds)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[images] %s\n' "$*"; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

only=""
extra=()
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || die "--only needs device, hive or storage-plugin"; only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --no-cache) extra+=(--no-cache) ;;
    --verbose | -v) verbose=1 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

# Each image is a target of the one Dockerfile; the build context is the repository root.
names=(device storage-plugin hive)
if [ -n "$only" ]; then
  [[ " ${names[*]} " == *" $only "* ]] || die "--only: unknown image '$only' (device, hive or storage-plugin)"
  names=("$only")
fi

# The legacy builder: BuildKit is not available everywhere this runs.
export DOCKER_BUILDKIT=0
docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/setup-test-env.sh starts one)"

# Docker tags allow [A-Za-z0-9_.-]: semver build metadata's '+' becomes '_'.
version=${VERSION:-$(node -p 'require("./package.json").version')}
tag_version=${version//+/_}
prefix=${IMAGE_PREFIX:-mosaic}

# Nothing can be pulled on a machine without registry access, so the default base is built here.
if [ -z "${BASE_IMAGE:-}" ]; then
  BASE_IMAGE=${NODE_BASE_IMAGE:-mosaic/node-base:24-trixie}
  bash scripts/make-base-image.sh "$BASE_IMAGE"
fi

# Extra CAs for npm (TLS-inspecting proxies): passed as PEM text, read only by the build stages.
ca_pem=""
if [ -n "${BUILD_CA_FILE:-}" ]; then
  [ -r "$BUILD_CA_FILE" ] || die "BUILD_CA_FILE $BUILD_CA_FILE is not readable"
  ca_pem=$(cat "$BUILD_CA_FILE")
elif compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  ca_pem=$(cat /usr/local/share/ca-certificates/*.crt)
fi

revision=$(git rev-parse --verify -q HEAD 2>/dev/null || true)
LOG_DIR=${LOG_DIR:-/tmp/mosaic-image-builds}
mkdir -p "$LOG_DIR"

declare -A took
for name in "${names[@]}"; do
  image="$prefix/$name"
  logfile="$LOG_DIR/$name.log"
  log "building $image:$tag_version on $BASE_IMAGE (log: $logfile)"
  start=$SECONDS
  args=(--target "$name" -t "$image:$tag_version" -t "$image:latest"
        --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "BUILD_CA_CERTS=$ca_pem"
        --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE_URL=${SOURCE_URL:-}"
        ${extra[@]+"${extra[@]}"} .)
  if [ "$verbose" = 1 ]; then
    docker build "${args[@]}" 2>&1 | tee "$logfile"
  elif ! docker build "${args[@]}" >"$logfile" 2>&1; then
    tail -40 "$logfile" >&2
    die "$image failed to build (full log: $logfile)"
  fi
  took[$name]=$((SECONDS - start))
  log "$image:$tag_version built in ${took[$name]}s"
done

log "images (base $BASE_IMAGE: $(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')):"
for name in "${names[@]}"; do
  printf '  %-32s %8s  built in %ss\n' "$prefix/$name:$tag_version" \
    "$(docker image inspect -f '{{.Size}}' "$prefix/$name:$tag_version" | awk '{printf "%.0f MB", $1 / 1e6}')" "${took[$name]}"
done
