/** docs/protocol.md §1: the version this code speaks and where it is spoken. */
export const PROTOCOL_VERSION = 1;
export const DEVICE_NAMESPACE = '/device';

/** Every socket.io event name of docs/protocol.md, in one place. */
export const Events = {
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
} as const;
export type EventName = (typeof Events)[keyof typeof Events];

/** The report kinds of §4; the outbox keeps only the newest of each. */
export const REPORT_EVENTS = [Events.reportApps, Events.reportVolumes, Events.reportVersion] as const;
export type ReportEvent = (typeof REPORT_EVENTS)[number];

/** §1: the device exits with this status on a fatal handshake refusal (EX_CONFIG). */
export const FATAL_EXIT_CODE = 78;
