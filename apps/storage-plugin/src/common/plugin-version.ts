import { packageVersion } from '@mosaic/ops';

/** The plugin's semver: the version of the package.json it was installed with, read at start (see packageVersion). */
export const PLUGIN_VERSION: string = packageVersion();
