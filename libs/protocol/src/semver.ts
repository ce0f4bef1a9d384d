/**
 * Semantic versions (semver.org 2.0.0) as far as Mosaic compares them: `x.y.z`, an optional
 * `-pre.release` and an optional `+build`, which precedence ignores. Written here rather than
 * taken from a package: the Hive (which version is older) and the Device (is a target newer) need
 * only this comparison.
 */
export interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Dot-separated identifiers; empty for a release. */
  prerelease: string[];
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const NUMERIC = /^\d+$/;

/** The parts of a version, or undefined when it is not one (leading zeros, empty identifiers, a `v` prefix…). */
export function parseSemver(text: string): Semver | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const prerelease = match[4] === undefined ? [] : match[4].split('.');
  // A numeric pre-release identifier must not have leading zeros either.
  if (prerelease.some((id) => NUMERIC.test(id) && id.length > 1 && id.startsWith('0'))) return undefined;
  return { major: BigInt(match[1]), minor: BigInt(match[2]), patch: BigInt(match[3]), prerelease };
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== undefined;
}

const sign = (a: bigint, b: bigint): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0);

function compareIdentifiers(a: string, b: string): -1 | 0 | 1 {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) return sign(BigInt(a), BigInt(b));
  // Numeric identifiers have lower precedence than alphanumeric ones.
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * -1 when `a` precedes `b`, 1 when it follows, 0 when they have the same precedence
 * (`1.0.0+a` and `1.0.0+b` do). Throws on a string that is not a version.
 */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  const left = parseSemver(a);
  const right = parseSemver(b);
  if (!left) throw new Error(`"${a}" is not a semantic version`);
  if (!right) throw new Error(`"${b}" is not a semantic version`);
  const core = sign(left.major, right.major) || sign(left.minor, right.minor) || sign(left.patch, right.patch);
  if (core !== 0) return core;
  // A pre-release precedes its release: 1.0.0-rc.1 < 1.0.0.
  if (left.prerelease.length === 0 || right.prerelease.length === 0) {
    return left.prerelease.length === right.prerelease.length ? 0 : left.prerelease.length === 0 ? 1 : -1;
  }
  const shared = Math.min(left.prerelease.length, right.prerelease.length);
  for (let i = 0; i < shared; i++) {
    const order = compareIdentifiers(left.prerelease[i], right.prerelease[i]);
    if (order !== 0) return order;
  }
  return sign(BigInt(left.prerelease.length), BigInt(right.prerelease.length));
}
