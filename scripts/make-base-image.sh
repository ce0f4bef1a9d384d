#!/usr/bin/env bash
# Builds the local base image mosaic/node-base:24-trixie without any container registry:
# a debootstrap'd Debian 13 trixie (minbase) + the Node.js 24 and npm that scripts/lib/node.sh
# puts on PATH + ca-certificates, laid out like the official node:24-trixie-slim (node and npm in
# /usr/local, apt working).
#
#   scripts/make-base-image.sh [--force] [IMAGE]      (or NODE_BASE_IMAGE=IMAGE, FORCE=1)
#
# Needs root (debootstrap), a running Docker engine, and the network to deb.debian.org.
# Idempotent: an existing image is kept unless --force; the downloaded .debs are cached in
# /var/cache/mosaic-node-base so a forced rebuild does not download them again.
set -euo pipefail

log() { printf '[base-image] %s\n' "$*"; }
die() { printf 'make-base-image: %s\n' "$*" >&2; exit 1; }

force=${FORCE:-0}
image=${NODE_BASE_IMAGE:-mosaic/node-base:24-trixie}
while [ $# -gt 0 ]; do
  case "$1" in
    --force | -f) force=1 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) image=$1 ;;
  esac
  shift
done

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
CACHE=/var/cache/mosaic-node-base

# Reruns must be cheap: the image is the only product, so its presence is the stamp.
if [ "$force" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image exists (--force rebuilds it)"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/setup-test-env.sh starts one)"

# The Node.js line Mosaic runs on goes in (installed first when the machine's is another one).
. "$(dirname "$0")/lib/node.sh"
mosaic_use_node || die "no Node.js $MOSAIC_NODE_VERSION to put in the image"
node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p 'process.versions.node')
# npm's real files: /usr/bin/npm is a symlink into its package folder (…/npm/bin/npm-cli.js).
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "cannot find npm's package folder (looked at $npm_dir)"
# Node's headers let node-gyp build native addons (better-sqlite3) offline, with npm_config_nodedir.
node_headers=$(dirname "$(dirname "$node_bin")")/include/node
[ -f "$node_headers/node.h" ] || die "no Node headers at $node_headers (node-gyp needs them offline)"

command -v debootstrap >/dev/null 2>&1 || {
  log "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

mkdir -p "$CACHE/debs"
rootfs=$(mktemp -d /var/tmp/mosaic-node-base.XXXXXX)
cleanup() {
  # A failed debootstrap can leave /proc or /sys mounted inside: unmount before deleting, and
  # never let rm cross into another file system.
  local m
  for m in $(findmnt -n -l -o TARGET | grep -F "$rootfs/" | sort -r || true); do umount -l "$m" || true; done
  rm -rf --one-file-system "$rootfs"
}
trap cleanup EXIT

log "debootstrap --variant=minbase $SUITE from $MIRROR"
# --cache-dir keeps the .debs for the next forced run; ca-certificates for TLS in derived images.
debootstrap --variant=minbase --include=ca-certificates --cache-dir="$CACHE/debs" \
  "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
  { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (full log: $CACHE/debootstrap.log)"; }

log "configuring apt and trimming"
# Same sources as Debian's own images, all on deb.debian.org (the security mirror included).
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
# Derived images' apt-get installs stay small too: the settings Debian's docker images ship.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
# No service may start inside a container while a package installs.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

# What the dpkg excludes would have kept out, removed now (copyright files stay: licences).
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,info,groff,lintian,locale}/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/var/lib/dpkg/*-old "$rootfs"/tmp/* "$rootfs"/var/tmp/*
find "$rootfs/var/log" -type f -delete
# Docker writes these per container; the host's copies must not leak into the image.
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"
: >"$rootfs/etc/machine-id"

log "adding Node $node_version and npm $("$node_bin" "$npm_dir/bin/npm-cli.js" -v) from $(dirname "$node_bin") and $npm_dir"
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
# npm without its docs and man pages (3 MB): `npm help` is the only thing that reads them.
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
rm -rf "$rootfs/usr/local/lib/node_modules/npm/docs" "$rootfs/usr/local/lib/node_modules/npm/man"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# Headers without OpenSSL's (53 of 54 MB): no addon of this project includes OpenSSL.
cp -a "$node_headers" "$rootfs/usr/local/include/node"
rm -rf "$rootfs/usr/local/include/node/openssl"

# Checked before import: the binary must run on this rootfs's libc/libstdc++.
chroot "$rootfs" /usr/local/bin/node -e 'process.exit(0)' || die "node does not run inside the rootfs"
chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js -v >/dev/null ||
  die "npm does not run inside the rootfs"

log "importing $image"
tar --numeric-owner -C "$rootfs" -cf - . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["node"]' \
  --change "LABEL org.opencontainers.image.title=\"node-base\" org.opencontainers.image.description=\"Debian $SUITE minbase + Node.js $node_version, built locally by scripts/make-base-image.sh\"" \
  --message "debootstrap --variant=minbase $SUITE + Node.js $node_version" \
  - "$image" >/dev/null

log "$image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
