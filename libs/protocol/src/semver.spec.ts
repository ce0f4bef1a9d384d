import { compareSemver, isSemver, parseSemver } from './semver';

describe('semver', () => {
  it('parses x.y.z with a pre-release and build metadata', () => {
    expect(parseSemver('1.2.3')).toEqual({ major: 1n, minor: 2n, patch: 3n, prerelease: [] });
    expect(parseSemver('10.20.30-rc.1+build.7')).toEqual({ major: 10n, minor: 20n, patch: 30n, prerelease: ['rc', '1'] });
    expect(parseSemver('99999999999999999999.0.0')?.major).toBe(99999999999999999999n);
  });

  it.each(['1.2', '1.2.3.4', 'v1.2.3', '01.2.3', '1.02.3', '1.2.3-', '1.2.3-rc..1', '1.2.3-01', '1.2.3+', ' 1.2.3', ''])(
    'refuses %p',
    (text) => {
      expect(parseSemver(text)).toBeUndefined();
      expect(isSemver(text)).toBe(false);
      expect(() => compareSemver(text, '1.0.0')).toThrow(/not a semantic version/);
    },
  );

  // semver.org §11: each version precedes the next one in this list.
  const ordered = [
    '0.9.9',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '1.10.0',
    '2.0.0',
    '10.0.0',
  ];

  it('orders versions by semver precedence', () => {
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect([ordered[i], ordered[j], compareSemver(ordered[i], ordered[j])]).toEqual([ordered[i], ordered[j], Math.sign(i - j)]);
      }
    }
  });

  it('compares numbers as numbers, not as text', () => {
    expect(compareSemver('1.9.0', '1.10.0')).toBe(-1);
    expect(compareSemver('1.0.0-rc.9', '1.0.0-rc.10')).toBe(-1);
    expect(compareSemver('1.0.0-9', '1.0.0-a')).toBe(-1);
  });

  it('ignores build metadata', () => {
    expect(compareSemver('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(compareSemver('1.0.0-rc.1+x', '1.0.0-rc.1')).toBe(0);
    expect(compareSemver('1.0.0+z', '1.0.1')).toBe(-1);
  });
});
