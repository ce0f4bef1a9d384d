import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Env, loadDeviceConfig } from './load-device-config';

const ROOT = join(__dirname, '../../../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Every variable name loadDeviceConfig looks up, found by handing it an environment that records reads. */
function settingsRead(): string[] {
  const names = new Set<string>();
  const env = new Proxy({} as Env, {
    get(_target, name) {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  loadDeviceConfig(env);
  return [...names];
}

describe('documented settings', () => {
  const names = settingsRead();

  it('finds the settings the device reads (the probe works)', () => {
    expect(names).toEqual(expect.arrayContaining(['HIVE_URL', 'DEVICE_TOKEN', 'STORAGE_PLUGIN_MODE', 'MONITOR_ADDRESS', 'STORAGE_PLUGIN_IMAGE']));
  });

  it('lists every Device setting in .env.example and in the README', () => {
    const example = read('.env.example');
    const readme = read('README.md');
    const documented = (text: string, name: string) => new RegExp(`\\b${name}\\b`).test(text);
    expect(names.filter((n) => !documented(example, n))).toEqual([]);
    expect(names.filter((n) => !documented(readme, n))).toEqual([]);
  });

  it('passes through compose.yaml every setting .env.example offers uncommented (commented ones say they are not)', () => {
    const compose = read('compose.yaml');
    const offered = [...read('.env.example').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(offered.length).toBeGreaterThan(20);
    expect(offered.filter((n) => !compose.includes(`\${${n}`))).toEqual([]);
  });

  it('explains in .env.example every variable compose.yaml reads', () => {
    const used = [...read('compose.yaml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(10);
    const example = read('.env.example');
    expect([...new Set(used)].filter((n) => !new RegExp(`^(# )?${n}=`, 'm').test(example))).toEqual([]);
  });
});
