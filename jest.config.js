// Three tiers (docs/architecture.md "Test tiers"): unit specs beside the code, integration and e2e under test/;
// and the benches, once each in quick mode.
const ESM_ONLY_PACKAGES = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  '@borewit',
  // @nestjs/devtools-integration's own dependencies (DEVTOOLS=true).
  '@nyariv',
  'chalk',
  // The Hive's query builder (apps/hive/src/database).
  'kysely',
  // Poly1305 for restic's key files (apps/storage-plugin/src/replication/restic-key-file.ts).
  '@noble/ciphers',
];
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: {
    '^@mosaic/protocol$': '<rootDir>/libs/protocol/src',
    '^@mosaic/protocol/(.*)$': '<rootDir>/libs/protocol/src/$1',
    '^@mosaic/ops$': '<rootDir>/libs/ops/src',
    '^@mosaic/hive-api$': '<rootDir>/libs/hive-api/src',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // Nest 12 and the packages it loads lazily are ES modules only; see the transform's header.
    '^.+\\.js$': '<rootDir>/test/support/jest-esm-to-cjs.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!(?:${ESM_ONLY_PACKAGES.join('|')})/)`],
};
/**
 * The Hive's specs that use its database, run by the `postgres` project as well: all of them but
 * those about SQLite itself (its files, its migrations from before the store layer).
 */
const HIVE_DATABASE_SPECS = [
  'accounts/account.service',
  'commands/commands.service',
  'console-auth/console-auth.service',
  'database/transactions',
  'database/write-batcher',
  'devices/devices.service',
  'hive-apps',
  'hive-console-events',
  'hive-console-session',
  'hive-moves',
  'hive-restart',
  'hive-throttle',
  'hive-upgrades',
  'hive.gateway',
  'keys/keys.service',
  'leases/lease.repository',
  'monitor/hive-stats.repository',
  'moves/move.service',
  'moves/stray-copies.service',
  'reports/reports.service',
  'upgrades/device-upgrade.service',
].map((name) => `<rootDir>/apps/hive/src/${name}.spec.ts`);
/** End-to-end paths through the Hive, with real Devices, run on PostgreSQL too: a Hive restart, a catalog app. */
const HIVE_E2E_ON_POSTGRES = ['foundation', 'catalog-app'].map((name) => `<rootDir>/test/e2e/${name}.e2e-spec.ts`);
module.exports = {
  // A hang guard, not a speed check (files that need longer set their own): the specs that derive
  // keys (scrypt, Argon2) or restart a Hive take a few seconds on a busy 2-core machine, and jest's
  // 5 s default failed them there. Jest reads it for the whole run, not per project.
  testTimeout: 30_000,
  // Two test files at a time (jest's default is one fewer than the cores: one, on the 2-core CI
  // machine). Most of the integration and e2e files wait on Docker, Compose, restic and the
  // Device's timers rather than on the CPU, and each runs on engines, plugins, ports and names of
  // its own (test/support/isolated-engine.ts), so two overlap their waits.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    // The Hive's specs again, on PostgreSQL (a throwaway cluster for the run, a database per file):
    // the same behaviour on both stores (docs/architecture.md "The store").
    {
      ...base,
      displayName: 'postgres',
      testMatch: [...HIVE_DATABASE_SPECS, '<rootDir>/apps/hive/src/**/*.pg-spec.ts', ...HIVE_E2E_ON_POSTGRES],
      globalSetup: '<rootDir>/test/support/postgres-jest-setup.ts',
      globalTeardown: '<rootDir>/test/support/postgres-jest-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/use-postgres.ts'],
    },
    // Every bench once in quick mode, so a bench broken by a change fails the suite (bench/quick.bench-spec.ts).
    { ...base, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.bench-spec.ts'] },
  ],
};
