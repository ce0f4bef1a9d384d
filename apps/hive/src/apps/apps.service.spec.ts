import { isHostName } from '@mosaic/protocol';
import { DEFAULT_APP_DOMAIN, defaultDomain } from './apps.service';

describe('defaultDomain', () => {
  const instance = '0e8f5d3c-9a4b-4f6e-8c2d-1a2b3c4d5e6f';

  it('is <app>-<first 8 of instance>.mosaic.test', () => {
    expect(defaultDomain('static-site', instance)).toBe(`static-site-0e8f5d3c.${DEFAULT_APP_DOMAIN}`);
  });

  it('stays an RFC 1123 host name for the longest app name', () => {
    const domain = defaultDomain('a'.repeat(63), instance);
    expect(domain.split('.')[0]).toHaveLength(63);
    expect(isHostName(domain)).toBe(true);
  });
});
