import { Patterns } from '@mosaic/protocol';

/** An image reference taken apart: `[host[:port]/]path[:tag][@sha256:digest]`. */
export interface ImageReference {
  /** Everything before the tag and digest, as written (`mosaic/device`, `127.0.0.1:5000/mosaic/device`). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** What the engine writes as `Config.Image` for a container started by image id. */
const IMAGE_ID = /^(?:sha256:)?[0-9a-f]{64}$/;
/** Docker Hub, as the engine spells a repository without a registry host. */
const DEFAULT_REGISTRY = 'docker.io';

/**
 * The parts of a reference, or undefined for an image id or anything that is not a reference.
 * The tag is what follows the last `:` after the last `/`, so a registry's port is never a tag.
 */
export function parseImageReference(ref: string): ImageReference | undefined {
  if (IMAGE_ID.test(ref) || ref.length > 512 || !Patterns.imageRef.test(ref)) return undefined;
  const [named, digest] = ref.split('@');
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  return {
    repository: hasTag ? named.slice(0, colon) : named,
    ...(hasTag ? { tag: named.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/**
 * A repository as the engine resolves it: `mosaic/device` is `docker.io/mosaic/device`, `busybox`
 * is `docker.io/library/busybox`. The first part names a registry only when it has a `.` or a
 * `:`, or is `localhost`.
 */
export function canonicalRepository(repository: string): string {
  const [first, ...rest] = repository.split('/');
  const hasRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return repository;
  return `${DEFAULT_REGISTRY}/${rest.length ? repository : `library/${repository}`}`;
}

export function sameRepository(a: string, b: string): boolean {
  return canonicalRepository(a) === canonicalRepository(b);
}

/** `<repository>:<version>`; semver's `+build` is not allowed in a tag, so it is written `_build`. */
export function taggedWithVersion(repository: string, version: string): string {
  return `${repository}:${version.replace(/\+/g, '_')}`;
}

/**
 * The repository of a sibling image published beside `repository`: the last part of its name
 * with `from` at its end made `to` (`ghcr.io/me/device` → `ghcr.io/me/storage-plugin`,
 * `me/mosaic-device` → `me/mosaic-storage-plugin`). Undefined when the name does not end so.
 */
export function siblingRepository(repository: string, from: string, to: string): string | undefined {
  const slash = repository.lastIndexOf('/');
  const last = repository.slice(slash + 1);
  if (!last.endsWith(from)) return undefined;
  return `${repository.slice(0, slash + 1)}${last.slice(0, last.length - from.length)}${to}`;
}
