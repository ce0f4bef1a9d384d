import { DEFAULT_DEVTOOLS_ADDRESS } from './devtools';
import { ListenAddress, isLoopbackHost, parseListenAddress } from './listen-address';
import type { Env } from './secret-setting';

export interface DevtoolsSettings {
  /** DEVTOOLS: Nest records its module graph snapshot, and the devtools server may start. */
  enabled: boolean;
  /** DEVTOOLS_ADDRESS: the devtools server's address, on loopback only. */
  address: ListenAddress;
  /** DEVTOOLS_ALLOW_CODE: the operator accepts a server that runs code sent to it (Device, storage plugin). */
  allowCode: boolean;
}

export interface SettingProblem {
  variable: string;
  message: string;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** true/1/yes or false/0/no, any case; undefined when it is neither. */
export function parseBoolean(value: string): boolean | undefined {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  return undefined;
}

/** DEVTOOLS, DEVTOOLS_ADDRESS and (where the program reads it) DEVTOOLS_ALLOW_CODE, with one problem per bad variable. */
export function readDevtoolsSettings(env: Env, options: { allowCodeSetting: boolean }): { settings: DevtoolsSettings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const flag = (name: string): boolean => {
    const value = raw(env, name) ?? 'false';
    const parsed = parseBoolean(value);
    if (parsed === undefined) problems.push({ variable: name, message: `must be true or false, got "${value}"` });
    return parsed ?? false;
  };
  const enabled = flag('DEVTOOLS');
  const allowCode = options.allowCodeSetting ? flag('DEVTOOLS_ALLOW_CODE') : true;
  const given = raw(env, 'DEVTOOLS_ADDRESS') ?? DEFAULT_DEVTOOLS_ADDRESS;
  let address = parseListenAddress(given);
  if (!address) {
    problems.push({ variable: 'DEVTOOLS_ADDRESS', message: `must be host:port such as ${DEFAULT_DEVTOOLS_ADDRESS}, got "${given}"` });
  } else if (!isLoopbackHost(address.host)) {
    problems.push({
      variable: 'DEVTOOLS_ADDRESS',
      message: `must be a loopback address (127.x.x.x or localhost): the devtools server shows the program's insides and can run code, got "${given}"`,
    });
    address = undefined;
  }
  return { settings: { enabled, allowCode, address: address ?? { host: '127.0.0.1', port: 8000 } }, problems };
}
