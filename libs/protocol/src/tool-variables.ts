/**
 * A device hands an app's variables to Compose as its process environment (docs/protocol.md §2.1:
 * values reach Compose as variables), so names that steer Compose, the Docker CLI or the Go
 * runtime (DOCKER_HOST, COMPOSE_FILE, HTTPS_PROXY, …) would let whoever sets variables redirect
 * the device's own tools. A device refuses them on top of the reserved names; a Hive should not
 * offer them. Shared here so both sides agree.
 */
// LD_: a distribution's docker CLI is dynamically linked, so LD_PRELOAD would load an app's library.
const TOOL_PREFIXES = ['COMPOSE_', 'DOCKER_', 'BUILDKIT_', 'BUILDX_', 'OTEL_', 'XDG_', 'LC_', 'SSH_', 'LD_'];
const TOOL_NAMES = new Set([
  'PATH', 'HOME', 'TMPDIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'FTP_PROXY',
  'LANG', 'LANGUAGE', 'TZ', 'TERM', 'NO_COLOR', 'COLUMNS', 'LINES', 'SHELL', 'USER', 'PWD', 'HOSTNAME',
  // Go reads these at run time; a GO prefix would also refuse GOOGLE_CLIENT_ID and the like.
  'GODEBUG', 'GOGC', 'GOMAXPROCS', 'GOMEMLIMIT', 'GOTRACEBACK', 'GORACE',
  // The CAs Go trusts when the tools talk to registries and the engine.
  'SSL_CERT_FILE', 'SSL_CERT_DIR',
]);

export function isToolVariable(name: string): boolean {
  return TOOL_NAMES.has(name) || TOOL_PREFIXES.some((prefix) => name.startsWith(prefix));
}
