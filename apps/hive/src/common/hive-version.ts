import { packageVersion } from '@mosaic/ops';

/** The Hive's semver: the version of the package.json it was installed with, read at start (see packageVersion). */
export const HIVE_VERSION: string = packageVersion();

/** The Device is built from the same package.json, so this is the version it reports (its DEVICE_VERSION). */
export const REPOSITORY_DEVICE_VERSION: string = HIVE_VERSION;
