#!/usr/bin/env bash
# Installs and starts the real components the tests need, on Debian bookworm as root.
# Idempotent: every step checks first, so running it again is cheap.
#   - Docker engine (docker.io), started in the background, waited for
#   - Compose v2: the static plugin from Debian trixie's docker-compose package (docs/architecture.md)
#   - restic 0.18 (from trixie), rclone, Debian's static busybox, Debian's docker-registry
#   - the local test image mosaic-test/busybox, built FROM scratch
#   - Debian's Chromium (and a font) for the Console's browser tests (playwright-core drives it)
#   - Debian's PostgreSQL, whose binaries the Hive's PostgreSQL tests run
#   - Debian's HAProxy, in front of several Hive processes in the cluster tests
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }
need_root() { [ "$(id -u)" = 0 ] || { echo "setup: run as root (it installs packages and starts dockerd)" >&2; exit 1; }; }
need_root

STATE=/var/lib/mosaic-setup
mkdir -p "$STATE"

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install docker.io rclone busybox-static iproute2 ca-certificates iptables openssl chromium fonts-dejavu-core
# PostgreSQL for the Hive's second store: the tests start throwaway clusters of their own
# (test/support/postgres.ts, initdb as the postgres user, a unix socket only); the package's own
# cluster and service are not wanted.
apt_install postgresql
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled postgresql >/dev/null 2>&1; then
  systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
# HAProxy for the Hive cluster's tests (test/support/haproxy.ts starts its own, with
# deploy/hive-cluster/haproxy.cfg and a listening socket the test hands it); the package's own
# service is not wanted.
apt_install haproxy
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled haproxy >/dev/null 2>&1; then
  systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
# A container registry for the upgrade test (test/support/loopback-registry.ts starts its own on
# 127.0.0.1, port 0, with a storage folder of its own). The package's own service is not wanted.
apt_install docker-registry
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled docker-registry >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# From Debian trixie, binaries only, through private apt lists so that nothing else of trixie is
# ever installed: the Compose v2 plugin (bookworm has only the Python docker-compose 1.29) and
# restic 0.18 (bookworm's 0.14 lacks --retry-lock, snapshot summaries and incremental restore).
T="$STATE/trixie"
TRIXIE_APT=(-o "Dir::Etc::SourceList=$T/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$T/lists" -o "Dir::Cache::Archives=$T/archives"
            -o "Dir::State::Status=/var/lib/dpkg/status")
trixie_updated=0
# trixie_binary PACKAGE PATH-IN-PACKAGE DESTINATION: installs one file of a trixie package.
trixie_binary() {
  local package=$1 inside=$2 dest=$3
  if [ $trixie_updated = 0 ]; then
    mkdir -p "$T/lists/partial" "$T/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$T/sources.list"
    apt-get "${TRIXIE_APT[@]}" update -qq
    trixie_updated=1
  fi
  log "fetching $package from Debian trixie"
  rm -f "$T"/archives/"${package}"_*.deb
  (cd "$T/archives" && apt-get "${TRIXIE_APT[@]}" download "$package" 2>/dev/null)
  rm -rf "$T/unpack" && mkdir -p "$T/unpack"
  dpkg -x "$(ls "$T"/archives/"${package}"_*.deb | head -1)" "$T/unpack"
  install -D -m 0755 "$T/unpack/$inside" "$dest"
}

COMPOSE_DIR=/usr/local/lib/docker/cli-plugins
docker compose version >/dev/null 2>&1 || trixie_binary docker-compose usr/libexec/docker/cli-plugins/docker-compose "$COMPOSE_DIR/docker-compose"

# restic in /usr/local/bin, ahead of any older one on PATH.
RESTIC_MIN=0.17
restic_fits() { /usr/local/bin/restic version 2>/dev/null | awk -v min=$RESTIC_MIN '{ split($2, v, "."); split(min, m, "."); exit !(v[1] > m[1] || (v[1] == m[1] && v[2] >= m[2])) }'; }
restic_fits || trixie_binary restic usr/bin/restic /usr/local/bin/restic
restic_fits || { echo "setup: restic $RESTIC_MIN or newer is needed; /usr/local/bin/restic is $(/usr/local/bin/restic version 2>&1 | head -1)" >&2; exit 1; }

# The engine: start dockerd in the background unless one answers already.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/dockerd.log" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

# Bridges of Docker networks whose engine is gone (a test engine that was killed) stay in the
# kernel and take address pools away from every engine. Remove those no engine here owns and no
# interface is attached to.
known=$(docker network ls -q --no-trunc | cut -c1-12)
for bridge in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^br-[0-9a-f]{12}$' || true); do
  id=${bridge#br-}
  if ! grep -q "^$id" <<<"$known" && [ -z "$(ip -o link show master "$bridge")" ]; then
    log "removing orphaned bridge $bridge"
    ip link del "$bridge" || true
  fi
done

# Test image: FROM scratch with Debian's static busybox.
if ! docker image inspect mosaic-test/busybox >/dev/null 2>&1; then
  log "building mosaic-test/busybox"
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t mosaic-test/busybox "$ctx" >/dev/null
  rm -rf "$ctx"
fi

log "docker $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /'), $(/usr/local/bin/restic version | cut -d' ' -f1-2), rclone $(rclone version 2>/dev/null | head -1 | cut -d' ' -f2)"
