/**
 * Checks a value against a catalog pattern the way the Hive does (the whole value must match), for
 * an early message next to the field. Patterns are RE2 syntax; one JavaScript cannot read is left
 * to the Hive, which checks every value again.
 */
export function matchesPattern(pattern: string | undefined, value: string): boolean {
  if (!pattern) return true;
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(value);
  } catch {
    return true;
  }
}
