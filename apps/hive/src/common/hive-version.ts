import { version } from '../../../../package.json';

/** The Hive's semver, from the repository's package.json at build time. */
export const HIVE_VERSION: string = version;
