import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { version } from '../../../package.json';
import { packageVersion } from './package-version';

describe('packageVersion', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'package-version-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("finds the repository's own version from the sources", () => {
    expect(packageVersion()).toBe(version);
  });

  it("reads the nearest package.json named mosaic, above another package's", () => {
    // An image's layout: /code/package.json, the bundle in /code/dist/apps/device, a dependency's manifest between.
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mosaic', version: '1.4.0-rc.2' }));
    const bundle = join(root, 'dist', 'apps', 'device');
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'something-else', version: '9.9.9' }));
    expect(packageVersion(bundle)).toBe('1.4.0-rc.2');
  });

  it('is read each time, so a version written into the image after the build is the one reported', () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mosaic', version: '1.0.0' }));
    expect(packageVersion(root)).toBe('1.0.0');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mosaic', version: '1.0.1' }));
    expect(packageVersion(root)).toBe('1.0.1');
  });

  it('fails clearly when no manifest names a version, or none is found', () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mosaic' }));
    expect(() => packageVersion(root)).toThrow(/names no version/);
    const lonely = join(root, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    mkdirSync(lonely, { recursive: true });
    expect(() => packageVersion(lonely)).toThrow(/no package.json named "mosaic"/);
  });
});
