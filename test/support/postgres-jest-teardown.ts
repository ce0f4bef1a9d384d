// Jest globalTeardown of the `postgres` project: stops the cluster postgres-jest-setup.ts started.
export { teardown as default } from './postgres-jest-setup';
