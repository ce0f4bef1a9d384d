import { version } from '../../../../package.json';

/** The plugin's semver, from the repository's package.json at build time. */
export const PLUGIN_VERSION: string = version;
