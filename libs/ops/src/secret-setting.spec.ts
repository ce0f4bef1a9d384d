import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretSetting } from './secret-setting';

describe('readSecretSetting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads NAME, or NAME_FILE without its trailing newline, or nothing', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cr3t value\n', { mode: 0o600 });
    expect(readSecretSetting({ TOKEN: 'direct' }, 'TOKEN')).toEqual({ ok: true, value: 'direct' });
    expect(readSecretSetting({ TOKEN_FILE: file }, 'TOKEN')).toEqual({ ok: true, value: 's3cr3t value' });
    expect(readSecretSetting({ TOKEN: '' }, 'TOKEN')).toEqual({ ok: true, value: undefined });
  });

  it('refuses both at once, and names the file variable when the file cannot be read', () => {
    expect(readSecretSetting({ TOKEN: 'a', TOKEN_FILE: '/x' }, 'TOKEN')).toEqual({ ok: false, variable: 'TOKEN', message: 'give TOKEN or TOKEN_FILE, not both' });
    expect(readSecretSetting({ TOKEN_FILE: join(dir, 'missing') }, 'TOKEN')).toEqual({ ok: false, variable: 'TOKEN_FILE', message: 'cannot be read: ENOENT' });
  });
});
