import { CatalogPattern, MAX_PATTERN_PROGRAM_SIZE, appArgumentProblem, catalogPattern } from '@mosaic/protocol';

function compiled(source: string): CatalogPattern {
  const pattern = CatalogPattern.compile(source);
  if (typeof pattern === 'string') throw new Error(`${source} ${pattern}`);
  return pattern;
}

describe('CatalogPattern', () => {
  it.each([
    ['^(\\w+)\\1$', 'not a regular expression RE2 accepts'],
    ['^(?=a)[a-z]+$', 'not a regular expression RE2 accepts'],
    ['^(?!-)[a-z]+$', 'not a regular expression RE2 accepts'],
    ['([a-z]+', 'not a regular expression RE2 accepts'],
    ['', 'must be 1 to 512 characters'],
    ['a'.repeat(513), 'must be 1 to 512 characters'],
    ['^.{0,1000}.{0,1000}.{0,1000}$', `at most ${MAX_PATTERN_PROGRAM_SIZE}`],
  ])('refuses %p', (source, why) => {
    expect(CatalogPattern.compile(source)).toEqual(expect.stringContaining(why));
  });

  it('matches the whole value, anchored or not', () => {
    expect(compiled('[a-z]+').matches('abc')).toBe(true);
    expect(compiled('[a-z]+').matches('abc;id')).toBe(false);
    expect(compiled('abc|xyz').matches('abcxyz')).toBe(false);
    expect(compiled('^[a-z]+$').matches('abc\n')).toBe(false);
  });

  it.each([
    ['^-?[0-9]+$', true],
    ['-[a-z]+', true],
    ['^\\-\\-[a-z]+$', true],
    ['^[A-Za-z0-9._@-]{1,128}$', false],
    ['^[-a-z]+$', false],
    ['^(-x|y)$', false],
    ['^x-$', false],
  ])('says whether %p begins with a literal "-": %p', (source, allows) => {
    expect(compiled(source).allowsLeadingDash).toBe(allows);
  });
});

describe('catalogPattern', () => {
  it('compiles a pattern once and hands out the same one after', () => {
    const first = catalogPattern('^[a-z]{1,7}$');
    expect(first).toBeInstanceOf(CatalogPattern);
    expect(catalogPattern('^[a-z]{1,7}$')).toBe(first);
  });

  it('remembers a refusal too', () => {
    expect(catalogPattern('^(a)\\1$')).toEqual(expect.stringContaining('RE2'));
  });

  it('keeps a bounded number: the oldest is compiled again once 512 others came after it', () => {
    const oldest = catalogPattern('^oldest[0-9]$');
    for (let i = 0; i < 511; i++) catalogPattern(`^filler${i}$`);
    expect(catalogPattern('^oldest[0-9]$')).toBe(oldest);
    for (let i = 511; i < 1100; i++) catalogPattern(`^filler${i}$`);
    const again = catalogPattern('^oldest[0-9]$');
    expect(again).not.toBe(oldest);
    expect(again).toEqual(oldest);
  });
});

describe('appArgumentProblem', () => {
  const free = compiled('^[^\\n]*$');

  it('accepts a matching value', () => {
    expect(appArgumentProblem(free, 'hello world')).toBeUndefined();
  });

  it('refuses a leading "-" unless the pattern begins with one', () => {
    expect(appArgumentProblem(free, '-rf')).toEqual(expect.stringContaining('may not start with "-"'));
    expect(appArgumentProblem(compiled('^-?[0-9]+$'), '-12')).toBeUndefined();
  });

  it('counts the length in characters, as the protocol does, and caps it at 4096', () => {
    expect(appArgumentProblem(free, 'é'.repeat(4096))).toBeUndefined();
    expect(appArgumentProblem(free, '😀'.repeat(4096))).toBeUndefined();
    expect(appArgumentProblem(free, '😀'.repeat(4097))).toBe('must be at most 4096 characters');
  });

  it('says which pattern a value misses', () => {
    expect(appArgumentProblem(compiled('^[a-z]+$'), 'a b')).toBe('must match ^[a-z]+$');
  });
});
