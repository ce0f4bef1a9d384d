# The Mosaic images, one target each; the build context is the repository root.
#   docker build -t mosaic/device .                                  (the default target)
#   docker build --target storage-plugin -t mosaic/storage-plugin .
#   docker build --target hive -t mosaic/hive .
#   add --build-arg BASE_IMAGE=mosaic/node-base:24-trixie where no registry can be reached
# scripts/build-images.sh builds all three. Works with the legacy builder (DOCKER_BUILDKIT=0):
# no heredocs, no RUN --mount. The three share the dependency, tool and runtime stages, so
# building them together costs one npm ci and one download of the tools. BASE_IMAGE must be
# Node.js 24 on Debian 13 (trixie): the tools come from trixie's packages.

ARG BASE_IMAGE=node:24-trixie-slim

# ---- deps: every node module, the native addon (better-sqlite3) compiled by node-gyp ----
FROM ${BASE_IMAGE} AS deps
# Quiet, offline-friendly npm in the build stages: no audit, funding or update-check requests.
ENV npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
# BUILD_CA_CERTS: PEM text of extra CAs for npm behind a TLS-inspecting proxy; build stages only,
# never in a runtime image. Node's own headers (when the base has them) let node-gyp build offline.
ARG BUILD_CA_CERTS=""
RUN set -eu; \
    if [ -n "$BUILD_CA_CERTS" ]; then printf '%s\n' "$BUILD_CA_CERTS" > /tmp/build-ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; fi; \
    prefix="$(dirname "$(dirname "$(command -v node)")")"; \
    if [ -f "$prefix/include/node/node.h" ]; then export npm_config_nodedir="$prefix"; fi; \
    npm ci --loglevel=error; \
    unset NODE_EXTRA_CA_CERTS; rm -f /tmp/build-ca.pem; \
    rm -rf /root/.npm /root/.cache; \
    node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"

# ---- prod-deps: what runs; the addon's build leftovers (objects, SQLite sources) removed ----
FROM deps AS prod-deps
RUN set -eux; \
    npm prune --omit=dev --loglevel=error; \
    cd node_modules/better-sqlite3; \
    rm -rf deps src build/Release/obj build/Release/obj.target build/Release/.deps build/Release/*.a build/Release/test_extension.node build/deps; \
    cd /build; \
    node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"; \
    rm -rf /root/.npm

# ---- tools: the Docker CLI, Compose v2 and restic, taken as binaries out of Debian trixie's
# packages (docker-cli 26.1, docker-compose 2.26, restic 0.18), so no other package comes along ----
FROM ${BASE_IMAGE} AS tools
WORKDIR /tools
RUN set -eux; \
    chown _apt /tools; \
    . /etc/os-release; [ "$VERSION_CODENAME" = trixie ] || { echo "BASE_IMAGE must be Debian trixie, not $VERSION_CODENAME" >&2; exit 1; }; \
    apt-get update; \
    apt-get download docker-cli docker-compose restic; \
    for deb in ./*.deb; do dpkg-deb -x "$deb" unpacked; done; \
    mkdir -p /out; \
    install -m 0755 unpacked/usr/bin/docker /out/docker; \
    install -m 0755 unpacked/usr/libexec/docker/cli-plugins/docker-compose /out/docker-compose; \
    install -m 0755 unpacked/usr/bin/restic /out/restic; \
    /out/docker --version; /out/docker-compose version; /out/restic version; \
    cd /; rm -rf /tools /var/lib/apt/lists/*

# ---- build: one bundle per app, so a change to one app invalidates only its own stage's cache
# (the legacy builder still walks every stage before the target, mostly from cache) ----
FROM deps AS source
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY libs ./libs

FROM source AS build-hive
COPY apps/hive ./apps/hive
COPY apps/console ./apps/console
COPY scripts/console-budget.js ./scripts/
# The Console (Vite) is static files the Hive serves: its modules (React, …) stay out of the image.
RUN npx nest build hive && npm run -s console:build

FROM source AS build-storage-plugin
COPY apps/storage-plugin ./apps/storage-plugin
RUN npx nest build storage-plugin

FROM source AS build-device
COPY apps/device ./apps/device
RUN npx nest build device

# ---- modules: each app's own production dependencies, out of prod-deps (scripts/runtime-modules.js) ----
FROM prod-deps AS modules-hive
COPY scripts/runtime-modules.js ./scripts/
COPY --from=build-hive /build/dist/apps/hive ./dist/apps/hive
RUN node scripts/runtime-modules.js hive /out/node_modules

FROM prod-deps AS modules-storage-plugin
COPY scripts/runtime-modules.js ./scripts/
COPY --from=build-storage-plugin /build/dist/apps/storage-plugin ./dist/apps/storage-plugin
RUN node scripts/runtime-modules.js storage-plugin /out/node_modules

FROM prod-deps AS modules-device
COPY scripts/runtime-modules.js ./scripts/
COPY --from=build-device /build/dist/apps/device ./dist/apps/device
RUN node scripts/runtime-modules.js device /out/node_modules

# ---- runtime: what every image carries ----
FROM ${BASE_IMAGE} AS runtime
WORKDIR /code
COPY package.json ./
ENV NODE_ENV=production
# VERSION, the version the apps report: they read it from /code/package.json when they start
# (libs/ops packageVersion), and each image's stage below writes it there with this script after
# its last heavy layer. So an image of another version (a release, the upgrade test's three)
# rebuilds one small layer: every build stage and copied node_modules stay cached. Empty keeps
# package.json's own; scripts/build-images.sh passes that, or the VERSION it is given.
COPY scripts/set-version.js /usr/local/lib/mosaic/set-version.js
ARG SOURCE_URL=""
LABEL org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# ---- the reference Hive ----
#   docker run -d -e HIVE_ADMIN_TOKEN=<16+ characters> -p 8080:8080 -v hive-data:/var/lib/mosaic-hive mosaic/hive
FROM runtime AS hive
# Non-root: the official image's `node` user (uid 1000) when there is one, else a `node` user
# with uid/gid 10001 (the mosaic/node-base image has no users of its own).
RUN set -eux; \
    if ! getent passwd node >/dev/null; then \
      groupadd --gid 10001 node; \
      useradd --no-log-init --uid 10001 --gid node --home-dir /home/node --create-home --shell /usr/sbin/nologin node; \
    fi; \
    mkdir -p /var/lib/mosaic-hive; \
    chown node:node /var/lib/mosaic-hive; \
    chmod 0700 /var/lib/mosaic-hive
COPY --from=modules-hive /out/node_modules ./node_modules
COPY --from=build-hive /build/dist/apps/hive ./dist/apps/hive
COPY --from=build-hive /build/dist/apps/console ./dist/apps/console
COPY catalog ./catalog
ARG VERSION=""
RUN node /usr/local/lib/mosaic/set-version.js "$VERSION"
ENV HIVE_HOST=0.0.0.0 \
    HIVE_PORT=8080 \
    HIVE_DB=/var/lib/mosaic-hive/hive.db \
    HIVE_CATALOG_DIR=/code/catalog \
    HIVE_CONSOLE_DIR=/code/dist/apps/console
VOLUME ["/var/lib/mosaic-hive"]
EXPOSE 8080
USER node
# GET /api/health needs no token; it answers on loopback since HIVE_HOST is 0.0.0.0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HIVE_PORT || 8080) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Last, so a new commit only relabels: every layer above stays cached.
ARG REVISION=""
LABEL org.opencontainers.image.title="mosaic-hive" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Mosaic Hive (reference): REST API and device gateway, state in SQLite" \
      org.opencontainers.image.revision="${REVISION}"
CMD ["node", "dist/apps/hive/main.js"]

# ---- the storage plugin ----
# Runs as root on purpose: it creates the plugin socket in the host's /run/docker/plugins (root's),
# and the volume data it serves and replicates belongs to whatever uids the apps' containers use.
FROM runtime AS storage-plugin
# restic reaches HTTPS repositories (S3, REST servers) with the system CA store; the official
# slim Node image has none, the mosaic/node-base image has it already.
RUN set -eux; \
    if ! dpkg -s ca-certificates >/dev/null 2>&1; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates; \
      rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=tools /out/restic /usr/bin/restic
COPY --from=modules-storage-plugin /out/node_modules ./node_modules
COPY --from=build-storage-plugin /build/dist/apps/storage-plugin ./dist/apps/storage-plugin
# /run/docker/plugins: where dockerd finds the plugin socket; /tmp/mosaic: the control socket the
# Device talks to; volumes and local replicas under /var/lib/mosaic (bind-mounted from the host).
# No VOLUME: the Device creates this container with bind mounts at the engine host's paths, which
# may differ from these defaults; a VOLUME would leave an anonymous volume behind at every replace.
RUN mkdir -p /run/docker/plugins /tmp/mosaic /var/lib/mosaic/volumes /var/lib/mosaic/replicas
COPY apps/storage-plugin/healthcheck.js ./dist/apps/storage-plugin/healthcheck.js
ARG VERSION=""
RUN node /usr/local/lib/mosaic/set-version.js "$VERSION"
# GET /health on the control socket (STORAGE_PLUGIN_SOCKET): the plugin is up and serving the Device.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/apps/storage-plugin/healthcheck.js"]
ARG REVISION=""
LABEL org.opencontainers.image.title="mosaic-storage-plugin" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Mosaic storage plugin: Docker volumes replicated with restic" \
      org.opencontainers.image.revision="${REVISION}"
CMD ["node", "dist/apps/storage-plugin/main.js"]

# ---- the Device (the default target) ----
# Runs as root on purpose: it drives the host's Docker socket, which is root-equivalent anyway,
# so a non-root user here would add no protection (only a docker group with the same power).
#   docker run -d -v /var/run/docker.sock:/var/run/docker.sock -v /tmp/mosaic:/tmp/mosaic \
#     -e HIVE_URL=... -e DEVICE_TOKEN=... -e DEVICE_PASSPHRASE_FILE=... mosaic/device
FROM runtime AS device
COPY --from=tools /out/docker /usr/bin/docker
COPY --from=tools /out/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose
COPY --from=modules-device /out/node_modules ./node_modules
COPY --from=build-device /build/dist/apps/device ./dist/apps/device
COPY apps/device/healthcheck.js ./dist/apps/device/healthcheck.js
# /tmp/mosaic holds the storage plugin's control socket (mount it: the plugin container shares it).
RUN mkdir -p /apps /tmp/mosaic /var/lib/mosaic/device
ARG VERSION=""
RUN node /usr/local/lib/mosaic/set-version.js "$VERSION"
ENV STORAGE_PLUGIN_MODE=container \
    APPS_DIR=/apps
VOLUME ["/apps", "/var/lib/mosaic/device"]
# GET /health on MONITOR_ADDRESS: Hive connected and authenticated, storage plugin answering.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/apps/device/healthcheck.js"]
ARG REVISION=""
LABEL org.opencontainers.image.title="mosaic-device" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Mosaic Device: runs self-hosted apps with Docker Compose and reports to a Hive" \
      org.opencontainers.image.revision="${REVISION}"
# Node's flags trade speed the Device does not need for memory (bench:rest, at rest with two apps:
# 128 MiB without them, 91 MiB with them): --max-semi-space-size=1 keeps V8's young generation at
# 1 MiB per semi-space instead of 16 (a mostly idle process allocates little, so scavenges stay
# rare and short); --lite-mode runs JavaScript in the interpreter only, without optimizing
# compilers and with feedback vectors allocated lazily; --no-experimental-websocket leaves out the
# global WebSocket, which the Device does not use but socket.io's client looks for when it loads,
# and looking loads undici (~3 MiB of the resident Device; apps/device/src/common/http-web-exports.ts).
# Command handling waits on the engine, Compose and restic, not on JavaScript (bench:soak reports
# its round trips). OpenPGP's key jobs are child processes started without these flags.
# test/support/device-node-flags.ts reads them from this line so tests and benches run the Device
# as the image does.
CMD ["node", "--max-semi-space-size=1", "--lite-mode", "--no-experimental-websocket", "dist/apps/device/main.js"]
