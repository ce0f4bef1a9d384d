import { FieldProblem } from '@mosaic/protocol';

/**
 * Variables reach Compose as its process environment, so a name that steers Compose, the Docker
 * CLI or the Go runtime (DOCKER_HOST, COMPOSE_FILE, HTTPS_PROXY, …) would let Hive redirect the
 * device's own tools. Those names are refused on top of the protocol's reserved ones.
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

export function toolVariableProblems(variables: Record<string, string>): FieldProblem[] {
  return Object.keys(variables)
    .filter((name) => TOOL_NAMES.has(name) || TOOL_PREFIXES.some((p) => name.startsWith(p)))
    .map((name) => ({ field: `params.variables.${name}`, problems: ['steers the device\'s Docker tools and may not be set by an app'] }));
}
