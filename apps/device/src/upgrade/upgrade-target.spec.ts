import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { upgradeTarget } from './upgrade-target';

const OWN = '127.0.0.1:5000/mosaic/device:0.1.0';

function refusal(run: () => unknown): { code: string; message: string; details: unknown } {
  try {
    run();
  } catch (err) {
    if (err instanceof ProtocolException) return { code: err.code, message: err.message, details: err.details };
  }
  throw new Error('it was not refused');
}

describe('upgradeTarget (§2.6)', () => {
  it('takes a named image of its own repository, with the version it must then report', () => {
    expect(upgradeTarget(OWN, { image: '127.0.0.1:5000/mosaic/device:0.2.0', version: '0.2.0' }, '0.1.0')).toEqual({
      image: '127.0.0.1:5000/mosaic/device:0.2.0',
      version: '0.2.0',
      named: true,
    });
    const digest = `mosaic/device@sha256:${'a'.repeat(64)}`;
    expect(upgradeTarget('mosaic/device:latest', { image: digest }, '0.1.0')).toEqual({ image: digest, named: true });
    expect(upgradeTarget('mosaic/device:latest', { image: 'docker.io/mosaic/device:0.3.0' }, '0.1.0')).toMatchObject({
      image: 'docker.io/mosaic/device:0.3.0',
    });
  });

  it('tags its own repository with a version named alone', () => {
    expect(upgradeTarget(OWN, { version: '0.2.0+build.7' }, '0.1.0')).toEqual({
      image: '127.0.0.1:5000/mosaic/device:0.2.0_build.7',
      version: '0.2.0+build.7',
      named: true,
    });
  });

  it('pulls its own reference anew for {} (a v1 Hive)', () => {
    expect(upgradeTarget('mosaic/device:latest', {}, '0.1.0')).toEqual({ image: 'mosaic/device:latest', named: false });
  });

  it.each([
    ['another registry', 'evil.example/mosaic/device:0.2.0'],
    ['another repository on the same registry', '127.0.0.1:5000/mosaic/other:0.2.0'],
    ['a repository that only starts like its own', '127.0.0.1:5000/mosaic/device-tools:0.2.0'],
  ])('refuses an image of %s: a Hive cannot make it run someone else’s image', (_label, image) => {
    expect(refusal(() => upgradeTarget(OWN, { image, version: '0.2.0' }, '0.1.0'))).toEqual({
      code: ErrorCode.INVALID_PARAMS,
      message: 'params.image must be an image of 127.0.0.1:5000/mosaic/device, the repository this device runs from.',
      details: [
        { field: 'params.image', problems: ['must be an image of 127.0.0.1:5000/mosaic/device, the repository this device runs from'] },
      ],
    });
  });

  it.each(['0.1.0', '0.0.9', '0.1.0-rc.1'])('refuses version %s: not newer than the one it runs', (version) => {
    expect(refusal(() => upgradeTarget(OWN, { version }, '0.1.0'))).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      details: [{ field: 'params.version', problems: ['must be newer than 0.1.0, the version this device runs'] }],
    });
  });

  it('refuses a target it cannot check or derive when it runs from an image id', () => {
    const byId = `sha256:${'b'.repeat(64)}`;
    expect(refusal(() => upgradeTarget(byId, { version: '0.2.0' }, '0.1.0'))).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      details: [{ field: 'params.image' }],
    });
    expect(refusal(() => upgradeTarget(byId, { image: 'mosaic/device:0.2.0' }, '0.1.0'))).toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    expect(upgradeTarget(byId, {}, '0.1.0')).toEqual({ image: byId, named: false });
  });
});
