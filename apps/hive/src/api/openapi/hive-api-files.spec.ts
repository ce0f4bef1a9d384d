import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

jest.setTimeout(120_000);

const run = promisify(execFile);
const REPO = join(__dirname, '../../../../..');
// Not imported from hive-api-files.ts: that loads openapi-typescript, whose dependencies Jest cannot load.
const OPENAPI_JSON_FILE = join(REPO, 'libs/hive-api/openapi.json');

/** The generator in a Node of its own: openapi-typescript's dependencies are ES modules Jest's CommonJS mode cannot load. */
const check = () =>
  run(process.execPath, ['-r', './bench/support/register.js', 'apps/hive/src/api/openapi/generate-hive-api.ts', '--check'], {
    cwd: REPO,
  }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );

describe('libs/hive-api', () => {
  it('matches the live OpenAPI document of the controllers (run npm run api:generate after changing the API)', async () => {
    expect(await check()).toEqual({ code: 0, stderr: '' });
    const document = JSON.parse(readFileSync(OPENAPI_JSON_FILE, 'utf8'));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/devices', '/api/devices/{deviceId}', '/api/apps/{instance}/move', '/api/session', '/api/settings']),
    );
  });

  it('fails when the committed document drifts', async () => {
    const saved = `${OPENAPI_JSON_FILE}.saved`;
    copyFileSync(OPENAPI_JSON_FILE, saved);
    try {
      writeFileSync(OPENAPI_JSON_FILE, readFileSync(saved, 'utf8').replace('"/api/settings"', '"/api/settingz"'));
      const drifted = await check();
      expect(drifted.code).toBe(1);
      expect(drifted.stderr).toContain('openapi.json differs from the live OpenAPI document');
    } finally {
      copyFileSync(saved, OPENAPI_JSON_FILE);
      rmSync(saved);
    }
  });
});
