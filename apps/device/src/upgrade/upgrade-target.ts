import { ErrorCode, ProtocolException, UpgradeParamsDto, compareSemver } from '@mosaic/protocol';
import { parseImageReference, sameRepository, taggedWithVersion } from '../docker/image-reference';

/** The image an upgrade runs, and the version it must report when the command named one. */
export interface UpgradeTarget {
  image: string;
  version?: string;
  /** Whether the command named a target: only then may its result carry the version reached (§2.6). */
  named: boolean;
}

function refused(field: 'image' | 'version', problem: string): ProtocolException {
  return new ProtocolException(ErrorCode.INVALID_PARAMS, `params.${field} ${problem}.`, [
    { field: `params.${field}`, problems: [problem] },
  ]);
}

/**
 * What UpgradeCommand.run asks for (docs/protocol.md §2.6), checked against what the device
 * runs: `image`; else its own repository tagged `version`; else its own reference, pulled anew.
 * The Hive is not trusted with more: it cannot make the device run an image of another
 * repository (that would be root on the machine), nor a version that is not newer.
 */
export function upgradeTarget(ownImage: string, params: UpgradeParamsDto, runningVersion: string): UpgradeTarget {
  if (params.version !== undefined && compareSemver(params.version, runningVersion) <= 0) {
    throw refused('version', `must be newer than ${runningVersion}, the version this device runs`);
  }
  if (params.image === undefined && params.version === undefined) return { image: ownImage, named: false };
  const own = parseImageReference(ownImage);
  if (!own)
    throw refused('image', `cannot be checked or derived: this device runs image ${ownImage.slice(0, 80)}, which names no repository`);
  if (params.image === undefined)
    return { image: taggedWithVersion(own.repository, params.version!), version: params.version, named: true };
  const wanted = parseImageReference(params.image);
  if (!wanted || !sameRepository(wanted.repository, own.repository)) {
    throw refused('image', `must be an image of ${own.repository}, the repository this device runs from`);
  }
  return { image: params.image, ...(params.version !== undefined ? { version: params.version } : {}), named: true };
}
