import { DEVICE_NAMESPACE, Events, FATAL_EXIT_CODE, PROTOCOL_VERSION, REPORT_EVENTS } from '@mosaic/protocol';

describe('events (docs/protocol.md)', () => {
  it('speaks protocol 1 on the /device namespace (§1)', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(DEVICE_NAMESPACE).toBe('/device');
  });

  it('names every event exactly as docs/protocol.md does', () => {
    expect(Events).toEqual({
      hello: 'hello',
      passphraseProve: 'passphrase.prove',
      command: 'command',
      commandResult: 'command.result',
      commandProgress: 'command.progress',
      keysPut: 'keys.put',
      keysGet: 'keys.get',
      keysList: 'keys.list',
      reportApps: 'report.apps',
      reportVolumes: 'report.volumes',
      reportVersion: 'report.version',
    });
  });

  it('has exactly the three report kinds of §4', () => {
    expect([...REPORT_EVENTS].sort()).toEqual(['report.apps', 'report.version', 'report.volumes']);
  });

  it('exits with status 78 on a fatal handshake refusal (§1)', () => {
    expect(FATAL_EXIT_CODE).toBe(78);
  });
});
