import { packageVersion } from '@mosaic/ops';

/** The device's semver: the version of the package.json it was installed with, read at start (see packageVersion). */
export const DEVICE_VERSION: string = packageVersion();
