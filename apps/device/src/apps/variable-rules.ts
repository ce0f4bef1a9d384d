import { FieldProblem } from '@mosaic/protocol';

/**
 * Variables reach Compose as its process environment, so a name that steers Compose, the Docker
 * CLI or the Go runtime (DOCKER_HOST, COMPOSE_FILE, HTTPS_PROXY, …) would let Hive redirect the
 * device's own tools. Those names are refused on top of the protocol's reserved ones.
 */
const TOOL_PREFIXES = ['COMPOSE_', 'DOCKER_', 'BUILDKIT_', 'BUILDX_', 'OTEL_', 'GO', 'XDG_', 'LC_', 'SSH_'];
const TOOL_NAMES = new Set([
  'PATH', 'HOME', 'TMPDIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'FTP_PROXY',
  'LANG', 'LANGUAGE', 'TZ', 'TERM', 'NO_COLOR', 'COLUMNS', 'LINES', 'SHELL', 'USER', 'PWD', 'HOSTNAME',
]);

export function toolVariableProblems(variables: Record<string, string>): FieldProblem[] {
  return Object.keys(variables)
    .filter((name) => TOOL_NAMES.has(name) || TOOL_PREFIXES.some((p) => name.startsWith(p)))
    .map((name) => ({ field: `params.variables.${name}`, problems: ['steers the device\'s Docker tools and may not be set by an app'] }));
}
