import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE } from './compose-allow-list';

describe('the allow-list, as app authors read it', () => {
  const readme = readFileSync(join(__dirname, '../../../../catalog/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf("### What an app may ask for: the device's allow-list"), readme.indexOf('## Trying an app by hand'));

  it('has its section in catalog/README.md (the probe works)', () => {
    expect(section.length).toBeGreaterThan(1000);
  });

  it('names every service key it allows or refuses by name', () => {
    expect(Object.keys(SERVICE).filter((key) => !section.includes(`\`${key}\``))).toEqual([]);
  });
});
