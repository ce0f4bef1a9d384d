# Sourced by the scripts: puts the Node.js line Mosaic runs on (and its npm) first on PATH.
#
# The machine's own `node` is used when it is of that line and new enough; otherwise the pinned
# release below is installed once under /opt/mosaic, from the npm registry's Node binaries
# (the node-linux-<arch> packages: the official build, with headers for node-gyp) and npm's own
# package, each checked against its pinned sha512 before it is unpacked. Nothing is installed
# system-wide: the machine's Node stays as it was.
#
#   MOSAIC_NODE_DIR   where pinned releases go (default /opt/mosaic)
#   NPM_REGISTRY      the registry to fetch from (default https://registry.npmjs.org)

MOSAIC_NODE_VERSION=24.22.3
MOSAIC_NODE_MIN=24.11.0
MOSAIC_NPM_VERSION=11.21.3
declare -A MOSAIC_NODE_SHA512=(
  [x64]=KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
  [arm64]=IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
)
MOSAIC_NPM_SHA512=5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==

# True when `node` on PATH is of MOSAIC_NODE_VERSION's major line and at least MOSAIC_NODE_MIN.
mosaic_node_fits() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e '
      const [want, min] = process.argv.slice(1).map((v) => v.split(".").map(Number));
      const have = process.versions.node.split(".").map(Number);
      const atLeast = have[0] !== min[0] ? have[0] > min[0] : have[1] !== min[1] ? have[1] > min[1] : have[2] >= min[2];
      process.exit(have[0] === want[0] && atLeast ? 0 : 1);' "$MOSAIC_NODE_VERSION" "$MOSAIC_NODE_MIN" 2>/dev/null
}

# Downloads a registry tarball to $3 and checks it against the sha512 (base64) in $2.
mosaic_fetch_checked() {
  local url=$1 sha512=$2 out=$3
  command -v curl >/dev/null 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null; }
  }
  curl -fsSL --retry 3 --max-time 600 -o "$out" "$url" || { echo "node: cannot download $url" >&2; return 1; }
  # The registry's integrity is base64; coreutils (on every Debian) compare it in hex.
  local want got
  want=$(printf '%s' "$sha512" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  got=$(sha512sum "$out" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "node: $url does not match its pinned sha512" >&2; rm -f "$out"; return 1; }
}

mosaic_install_node() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node: no pinned Node.js build for $(uname -m); install Node.js $MOSAIC_NODE_VERSION yourself" >&2; return 1 ;;
  esac
  local registry=${NPM_REGISTRY:-https://registry.npmjs.org}
  local prefix=$1 tmp
  tmp=$(mktemp -d)
  echo "[setup] installing Node.js $MOSAIC_NODE_VERSION and npm $MOSAIC_NPM_VERSION in $prefix (machine's node: $(node -v 2>/dev/null || echo none))"
  mosaic_fetch_checked "$registry/node-linux-$arch/-/node-linux-$arch-$MOSAIC_NODE_VERSION.tgz" "${MOSAIC_NODE_SHA512[$arch]}" "$tmp/node.tgz" &&
    mosaic_fetch_checked "$registry/npm/-/npm-$MOSAIC_NPM_VERSION.tgz" "$MOSAIC_NPM_SHA512" "$tmp/npm.tgz" || { rm -rf "$tmp"; return 1; }
  # Unpacked beside the final place, then renamed: an interrupted install never looks complete.
  local staging="$prefix.partial"
  rm -rf "$staging" && mkdir -p "$staging/lib/node_modules/npm"
  tar -xzf "$tmp/node.tgz" -C "$staging" --strip-components=1 --no-same-owner package/bin package/include package/LICENSE
  tar -xzf "$tmp/npm.tgz" -C "$staging/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$staging/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$staging/bin/npx"
  rm -rf "$tmp"
  "$staging/bin/node" -e 'process.exit(0)' || { echo "node: the downloaded Node.js does not run here" >&2; return 1; }
  rm -rf "$prefix" && mv "$staging" "$prefix"
}

# Makes `node` and `npm` on PATH fit; installs the pinned release when they do not.
mosaic_use_node() {
  mosaic_node_fits && return 0
  local prefix=${MOSAIC_NODE_DIR:-/opt/mosaic}/node-v$MOSAIC_NODE_VERSION
  if [ ! -x "$prefix/bin/node" ]; then
    mosaic_install_node "$prefix" || return 1
  fi
  export PATH="$prefix/bin:$PATH"
  mosaic_node_fits || { echo "node: $prefix/bin/node is not Node.js $MOSAIC_NODE_VERSION" >&2; return 1; }
}
