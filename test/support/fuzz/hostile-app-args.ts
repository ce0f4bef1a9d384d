import fc from 'fast-check';
import { PROTOTYPE_KEYS, hostileString, withOwnKey } from './hostile-values';

/**
 * The app the argument fuzz runs commands of: the catalog's static site shape on the test image,
 * with commands that take arguments (a declared pattern, the default pattern, none).
 */
export const ARGS_APP_COMPOSE = `
x-mosaic:
  commands:
    echo:
      service: web
      argv: ["echo", "{{text}}"]
      timeoutSeconds: 10
    show-file:
      service: web
      argv: ["cat", "{{path}}"]
      args:
        path: { pattern: "^/data/[a-z.]{1,32}$" }
      timeoutSeconds: 10
    dash-ok:
      service: web
      argv: ["echo", "{{flag}}"]
      args:
        flag: { pattern: "-[a-z]{1,8}" }
      timeoutSeconds: 10
    read-page:
      service: web
      argv: ["cat", "/data/index.html"]
      timeoutSeconds: 10
services:
  web:
    image: mosaic-test/busybox
    command: ["sh", "-c", "echo page > /data/index.html && exec sleep 3600"]
    stop_grace_period: 1s
    volumes:
      - data:/data
volumes:
  data:
    external: true
    name: \${APP_VOLUME_NAME}
`;

/** Each declared command's arguments and the pattern that decides them (anchored, as the device applies it). */
export const DECLARED: Record<string, Record<string, RegExp>> = {
  echo: { text: /^[A-Za-z0-9._@-]{1,128}$/ },
  'show-file': { path: /^\/data\/[a-z.]{1,32}$/ },
  'dash-ok': { flag: /^-[a-z]{1,8}$/ },
  'read-page': {},
};

/** Strings aimed at argv: options, patterns that backtrack, paths that climb, NUL, unicode, length. */
const argument = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '-rf',
      '-n',
      '--',
      '-e \\x41',
      '--version',
      '-',
      '-x',
      '-abcdefgh',
      '-abcdefghi',
      '/data/../etc/passwd',
      '/data/index.html',
      '/data/.',
      '/data/',
      'a'.repeat(128),
      'a'.repeat(129),
      '@.-_',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!',
      'x\ny',
      'x y',
      'é',
      '٣',
      '\u{1F600}',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '.', '_', '@', '-', '/', ' ', 'é', '\0', '\n'),
      minLength: 1,
      maxLength: 40,
    }),
  },
);

export interface ArgsCase {
  command: string;
  args?: Record<string, unknown>;
}

const commandName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...Object.keys(DECLARED)) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'slow', 'reset-password', 'ECHO', 'echo ', '-echo') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** A command and its arguments: the declared ones with hostile values, missing, extra, or keyed by prototype names. */
export const hostileAppArgs: fc.Arbitrary<ArgsCase> = fc
  .tuple(
    commandName,
    fc.dictionary(
      fc.oneof(fc.constantFrom('text', 'path', 'flag'), fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 10 })),
      argument,
      { maxKeys: 3 },
    ),
    fc.constantFrom('declared', 'given', 'none'),
    argument,
  )
  .map(([command, extra, shape, value]) => {
    if (shape === 'none') return { command };
    const declared = DECLARED[command] ? Object.keys(DECLARED[command]) : [];
    const args: Record<string, unknown> = {};
    if (shape === 'declared') for (const name of declared) withOwnKey(args, name, value);
    else for (const [k, v] of Object.entries(extra)) withOwnKey(args, k, v);
    return { command, args };
  });
