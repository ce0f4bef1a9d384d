import { canonicalRepository, parseImageReference, sameRepository, siblingRepository, taggedWithVersion } from './image-reference';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it.each([
    ['mosaic/device', { repository: 'mosaic/device' }],
    ['mosaic/device:0.1.0', { repository: 'mosaic/device', tag: '0.1.0' }],
    ['127.0.0.1:5000/mosaic/device', { repository: '127.0.0.1:5000/mosaic/device' }],
    ['127.0.0.1:5000/mosaic/device:0.2.0', { repository: '127.0.0.1:5000/mosaic/device', tag: '0.2.0' }],
    [`ghcr.io/me/device@${DIGEST}`, { repository: 'ghcr.io/me/device', digest: DIGEST }],
    [`ghcr.io/me/device:1.0.0@${DIGEST}`, { repository: 'ghcr.io/me/device', tag: '1.0.0', digest: DIGEST }],
    ['busybox', { repository: 'busybox' }],
  ])('takes %s apart', (ref, parts) => {
    expect(parseImageReference(ref)).toEqual(parts);
  });

  it.each([
    ['an image id', `sha256:${'a'.repeat(64)}`],
    ['a bare image id', 'a'.repeat(64)],
    ['upper case', 'Mosaic/Device'],
    ['a space', 'mosaic/device :1'],
    ['an empty string', ''],
  ])('is no reference: %s', (_label, ref) => {
    expect(parseImageReference(ref)).toBeUndefined();
  });

  it('compares repositories as the engine resolves them', () => {
    expect(canonicalRepository('mosaic/device')).toBe('docker.io/mosaic/device');
    expect(canonicalRepository('busybox')).toBe('docker.io/library/busybox');
    expect(canonicalRepository('localhost/mosaic/device')).toBe('localhost/mosaic/device');
    expect(canonicalRepository('127.0.0.1:5000/device')).toBe('127.0.0.1:5000/device');
    expect(sameRepository('mosaic/device', 'docker.io/mosaic/device')).toBe(true);
    expect(sameRepository('busybox', 'docker.io/library/busybox')).toBe(true);
    expect(sameRepository('mosaic/device', 'evil.example/mosaic/device')).toBe(false);
    expect(sameRepository('mosaic/device', 'mosaic/device-extra')).toBe(false);
  });

  it('tags with a version, semver build metadata written with _', () => {
    expect(taggedWithVersion('127.0.0.1:5000/mosaic/device', '0.2.0')).toBe('127.0.0.1:5000/mosaic/device:0.2.0');
    expect(taggedWithVersion('mosaic/device', '1.0.0-rc.1+build.5')).toBe('mosaic/device:1.0.0-rc.1_build.5');
  });

  it('names the sibling image published beside a repository', () => {
    expect(siblingRepository('ghcr.io/me/device', 'device', 'storage-plugin')).toBe('ghcr.io/me/storage-plugin');
    expect(siblingRepository('127.0.0.1:5000/mosaic/device', 'device', 'storage-plugin')).toBe('127.0.0.1:5000/mosaic/storage-plugin');
    expect(siblingRepository('me/mosaic-device', 'device', 'storage-plugin')).toBe('me/mosaic-storage-plugin');
    expect(siblingRepository('device', 'device', 'storage-plugin')).toBe('storage-plugin');
    expect(siblingRepository('ghcr.io/device/agent', 'device', 'storage-plugin')).toBeUndefined();
  });
});
