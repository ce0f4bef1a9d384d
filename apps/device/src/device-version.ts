import { version } from '../../../package.json';

/** The device's semver, from the repository's package.json at build time. */
export const DEVICE_VERSION: string = version;
