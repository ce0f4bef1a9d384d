import type { RE2JS } from 're2js';
import { LIMITS } from './dto/command-params.dto';
import { charLength } from './dto/constraints';

/** A catalog pattern's own length limit (app command arguments and app variables alike). */
export const MAX_PATTERN_CHARS = 512;
/**
 * RE2's rough cost of a compiled pattern (`programSize`): matching costs at most this much work
 * per character of a value. The default argument pattern is 259; `.{0,1000}` alone is 2,002.
 */
export const MAX_PATTERN_PROGRAM_SIZE = 5000;
/** Compiled patterns kept for reuse; the catalog and the installed apps declare far fewer. */
const CACHE_SIZE = 512;

/**
 * re2js, loaded on the first pattern compiled: ~1 MB resident with its Unicode tables, which a
 * Device whose apps declare no commands never needs.
 */
let re2js: typeof RE2JS | undefined;
function loadRe2js(): typeof RE2JS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  re2js ??= (require('re2js') as typeof import('re2js')).RE2JS;
  return re2js;
}

/**
 * A pattern a catalog app declares for a command argument or a variable (docs/protocol.md §2.3),
 * compiled with RE2 (re2js): matching takes time linear in the value, whatever the pattern, so no
 * pattern can backtrack catastrophically. What RE2 cannot run without backtracking
 * (backreferences, lookaround) does not compile, and the pattern is refused.
 */
export class CatalogPattern {
  private constructor(
    readonly source: string,
    private readonly re2: RE2JS,
  ) {}

  /** The compiled pattern, or why it is refused (one sentence fragment). */
  static compile(source: string): CatalogPattern | string {
    if (source.length === 0 || source.length > MAX_PATTERN_CHARS) return `must be 1 to ${MAX_PATTERN_CHARS} characters`;
    let re2: RE2JS;
    try {
      re2 = loadRe2js().compile(source);
    } catch (err) {
      return `is not a regular expression RE2 accepts (${(err as Error).message})`;
    }
    if (re2.programSize() > MAX_PATTERN_PROGRAM_SIZE) {
      return `is too costly to match (RE2 program size ${re2.programSize()}, at most ${MAX_PATTERN_PROGRAM_SIZE}): use smaller repeat counts`;
    }
    return new CatalogPattern(source, re2);
  }

  /** The whole value matches, whether or not the author anchored the pattern. */
  matches(value: string): boolean {
    return this.re2.testExact(value);
  }

  /**
   * The author wrote the pattern to accept values that start with `-`: it begins with a literal
   * `-` (after an optional `^`), as `^-?[0-9]+$` does. A `-` inside a class (`[a-z-]`) does not count.
   */
  get allowsLeadingDash(): boolean {
    const body = this.source.startsWith('^') ? this.source.slice(1) : this.source;
    return body.startsWith('-') || body.startsWith('\\-');
  }
}

const compiled = new Map<string, CatalogPattern | string>();

/**
 * `CatalogPattern.compile`, once per distinct pattern: the Hive compiles at catalog load and the
 * Device when an app starts, and every later run or install reuses that. Bounded: the oldest goes.
 */
export function catalogPattern(source: string): CatalogPattern | string {
  let pattern = compiled.get(source);
  if (pattern === undefined) {
    pattern = CatalogPattern.compile(source);
    if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
    compiled.set(source, pattern);
  }
  return pattern;
}

/**
 * Why the value of an app command argument is refused, or undefined when it is accepted: too
 * long, starting with `-` (an option, to most programs) when the pattern does not say so, or not
 * matching the pattern as a whole.
 */
export function appArgumentProblem(pattern: CatalogPattern, value: string): string | undefined {
  // length first: charLength never exceeds it, and counts code points as the protocol's limit does.
  if (value.length > LIMITS.appCommandArgChars && charLength(value) > LIMITS.appCommandArgChars)
    return `must be at most ${LIMITS.appCommandArgChars} characters`;
  if (value.startsWith('-') && !pattern.allowsLeadingDash)
    return `may not start with "-" (an option): its pattern ${pattern.source} does not begin with one`;
  if (!pattern.matches(value)) return `must match ${pattern.source}`;
  return undefined;
}
