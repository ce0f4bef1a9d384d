import { version } from '../../../../package.json';

/** The Hive's semver, from the repository's package.json at build time. */
export const HIVE_VERSION: string = version;

/** The Device is built from the same package.json, so this is the version it reports (its DEVICE_VERSION). */
export const REPOSITORY_DEVICE_VERSION: string = version;
