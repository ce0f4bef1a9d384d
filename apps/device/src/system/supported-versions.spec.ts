import { MIN_COMPOSE, MIN_ENGINE, compareVersions, unsupportedVersions } from './supported-versions';

describe('compareVersions', () => {
  it.each([
    ['2.26.1', '2.26.0', 1],
    ['2.26.0', '2.26.0', 0],
    ['v2.9.0', '2.26.0', -1],
    ['1.41', '1.41', 0],
    ['1.40', '1.41', -1],
    ['1.45', '1.41', 1],
    ['2.26.1-desktop.1', '2.26.1', 0],
    ['26.1.5+dfsg1', '20.10', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});

describe('unsupportedVersions', () => {
  it('accepts the oldest supported engine and Compose, and anything newer', () => {
    expect(unsupportedVersions({ engineApi: MIN_ENGINE.api, engineVersion: '20.10.24', compose: MIN_COMPOSE })).toEqual([]);
    expect(unsupportedVersions({ engineApi: '1.47', engineVersion: '28.0.0', compose: '2.40.3' })).toEqual([]);
  });

  it('names each one that is older, with the oldest supported', () => {
    expect(unsupportedVersions({ engineApi: '1.40', engineVersion: '19.03.15', compose: '2.20.3' })).toEqual([
      'Docker Engine 19.03.15 (API 1.40) is older than Mosaic supports: Engine 20.10 (API 1.41) or newer',
      'Docker Compose 2.20.3 is older than Mosaic supports: Compose 2.26.0 or newer',
    ]);
  });

  it('says nothing of what it could not find out', () => {
    expect(unsupportedVersions({})).toEqual([]);
  });
});
