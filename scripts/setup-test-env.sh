#!/usr/bin/env bash
# Installs and starts the real components the tests need, on Debian bookworm as root.
# Idempotent: every step checks first, so running it again is cheap.
#   - Docker engine (docker.io), started in the background, waited for
#   - Compose v2: the static plugin from Debian trixie's docker-compose package (docs/architecture.md)
#   - restic, rclone, Debian's static busybox
#   - the local test image mosaic-test/busybox, built FROM scratch
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

apt_install docker.io restic rclone busybox-static iproute2 ca-certificates iptables openssl

# Compose v2 plugin: one package from trixie, unpacked privately; nothing else from trixie is installed.
COMPOSE_DIR=/usr/local/lib/docker/cli-plugins
if ! docker compose version >/dev/null 2>&1; then
  log "fetching the Compose v2 plugin from Debian trixie"
  T="$STATE/trixie"
  mkdir -p "$T/lists/partial" "$T/archives/partial" "$T/unpack"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$T/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$T/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$T/lists" -o "Dir::Cache::Archives=$T/archives"
            -o "Dir::State::Status=/var/lib/dpkg/status")
  apt-get "${APT_OPTS[@]}" update -qq
  (cd "$T/archives" && apt-get "${APT_OPTS[@]}" download docker-compose)
  dpkg -x "$(ls "$T"/archives/docker-compose_*.deb | head -1)" "$T/unpack"
  mkdir -p "$COMPOSE_DIR"
  install -m 0755 "$T/unpack/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_DIR/docker-compose"
fi

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

log "docker $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /'), $(restic version | cut -d' ' -f1-2), rclone $(rclone version 2>/dev/null | head -1 | cut -d' ' -f2)"
