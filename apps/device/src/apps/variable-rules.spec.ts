import { toolVariableProblems } from './variable-rules';

const PROBLEM = "steers the device's Docker tools and may not be set by an app";

describe('toolVariableProblems (variables that would steer Compose and the Docker CLI)', () => {
  it.each([
    // the engine and the Docker CLI
    'DOCKER_HOST',
    'DOCKER_CONFIG',
    'DOCKER_CONTEXT',
    'DOCKER_TLS_VERIFY',
    'DOCKER_CERT_PATH',
    'DOCKER_API_VERSION',
    // Compose itself
    'COMPOSE_FILE',
    'COMPOSE_PROJECT_NAME',
    'COMPOSE_PROFILES',
    'COMPOSE_ENV_FILES',
    'BUILDKIT_PROGRESS',
    'BUILDX_BUILDER',
    // the process: where programs, config and temporary files are found
    'PATH',
    'HOME',
    'TMPDIR',
    'XDG_CONFIG_HOME',
    'SHELL',
    // the dynamic loader: a library of the app's choosing inside a dynamically linked docker CLI
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    // network: proxies, and the CAs Go trusts for registries
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    // telemetry
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_SDK_DISABLED',
    // the Go runtime of both tools
    'GODEBUG',
    'GOMAXPROCS',
    'GOGC',
    'GOMEMLIMIT',
    'GOTRACEBACK',
  ])('refuses %s', (name) => {
    expect(toolVariableProblems({ [name]: 'x' })).toEqual([{ field: `params.variables.${name}`, problems: [PROBLEM] }]);
  });

  it.each([
    'ADMIN_EMAIL',
    'DB_PASSWORD',
    'APP_SECRET',
    // only DOCKER_… is Docker's: a name that merely starts with the word is the app's
    'DOCKERISH',
    'DOCKERHUB_USER',
    'MY_DOCKER_HOST',
    'COMPOSER_HOME',
    // only the Go runtime's own names, not every word that starts with GO
    'GOOGLE_CLIENT_ID',
    'GOTIFY_TOKEN',
    'GOAL',
    'PATH_PREFIX',
    'HOME_URL',
    'HOMEPAGE',
    'PROXY_URL',
    'TZ_NAME',
    'LDAP_URL',
    'SSL_ENABLED',
  ])('accepts %s', (name) => {
    expect(toolVariableProblems({ [name]: 'x' })).toEqual([]);
  });

  it('accepts no variables at all', () => {
    expect(toolVariableProblems({})).toEqual([]);
  });

  it('names every refused variable and only those, in order', () => {
    const problems = toolVariableProblems({ ADMIN_EMAIL: 'me@example.net', DOCKER_HOST: 'tcp://evil:2375', DB_PASSWORD: 'x', COMPOSE_FILE: '/etc/x.yaml', GODEBUG: 'x=1' });
    expect(problems.map((p) => p.field)).toEqual(['params.variables.DOCKER_HOST', 'params.variables.COMPOSE_FILE', 'params.variables.GODEBUG']);
  });
});
