import { readDevtoolsSettings } from './devtools-settings';

describe('readDevtoolsSettings', () => {
  it('is off by default, on 127.0.0.1:8000, and code is not allowed where the program reads DEVTOOLS_ALLOW_CODE', () => {
    expect(readDevtoolsSettings({}, { allowCodeSetting: true })).toEqual({
      settings: { enabled: false, allowCode: false, address: { host: '127.0.0.1', port: 8000 } },
      problems: [],
    });
  });

  it('reads the three settings', () => {
    const read = readDevtoolsSettings({ DEVTOOLS: 'true', DEVTOOLS_ADDRESS: '127.0.0.2:0', DEVTOOLS_ALLOW_CODE: 'yes' }, { allowCodeSetting: true });
    expect(read).toEqual({ settings: { enabled: true, allowCode: true, address: { host: '127.0.0.2', port: 0 } }, problems: [] });
  });

  it('needs no second setting where the program does not read one', () => {
    expect(readDevtoolsSettings({ DEVTOOLS: '1' }, { allowCodeSetting: false }).settings).toMatchObject({ enabled: true, allowCode: true });
  });

  it.each(['0.0.0.0:8000', '192.168.1.2:8000', 'example.net:8000'])('refuses a devtools server off loopback (%s)', (address) => {
    const { problems } = readDevtoolsSettings({ DEVTOOLS: 'true', DEVTOOLS_ADDRESS: address }, { allowCodeSetting: false });
    expect(problems).toEqual([{ variable: 'DEVTOOLS_ADDRESS', message: expect.stringContaining('must be a loopback address') }]);
  });

  it('names every bad variable', () => {
    const { problems } = readDevtoolsSettings({ DEVTOOLS: 'on', DEVTOOLS_ADDRESS: '8000', DEVTOOLS_ALLOW_CODE: 'sure' }, { allowCodeSetting: true });
    expect(problems.map((p) => p.variable)).toEqual(['DEVTOOLS', 'DEVTOOLS_ALLOW_CODE', 'DEVTOOLS_ADDRESS']);
  });
});
