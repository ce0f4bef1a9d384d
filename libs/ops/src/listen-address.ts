import { isIPv4 } from 'node:net';

export interface ListenAddress {
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
}

/** `host:port` (an IPv4 address or a name; port 0 picks a free one), or undefined when it is not one. */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const match = /^([a-zA-Z0-9.-]{1,253}):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65535) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

/** This machine's own loopback: `localhost` or 127.0.0.0/8. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || (isIPv4(host) && host.startsWith('127.'));
}
