import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashing first gives both sides the same length, so the comparison leaks neither content nor length. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Compares a presented token with HIVE_ADMIN_TOKEN in constant time. */
export function adminTokenMatches(expected: string, presented: string | undefined): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), digest(expected));
}
