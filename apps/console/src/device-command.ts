// The command a person runs on a new device's machine: everything the Device needs in one line
// (README "A Device alone"). Values are single-quoted where a shell would read them otherwise.
export interface DeviceSettings {
  hiveUrl: string;
  token: string;
  passphrase: string;
  version: string;
}

const MASK = '••••••••';
const SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;
export const shellQuote = (value: string): string => (SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/** Plain http to a Hive that is not on this machine needs the device's explicit consent (HIVE_ALLOW_INSECURE). */
function insecure(hiveUrl: string): boolean {
  const { protocol, hostname } = new URL(hiveUrl);
  return protocol === 'http:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(hostname);
}

export function deviceCommand(s: DeviceSettings, masked: boolean): string {
  const secret = (value: string) => (masked ? MASK : shellQuote(value));
  return [
    'docker run -d --name mosaic-device --restart unless-stopped',
    '-v /var/run/docker.sock:/var/run/docker.sock',
    '-v mosaic-plugin-socket:/tmp/mosaic -v mosaic-device:/var/lib/mosaic/device',
    '-v /var/lib/mosaic/apps:/var/lib/mosaic/apps -e APPS_DIR=/var/lib/mosaic/apps',
    '-v /var/lib/mosaic/volumes:/var/lib/mosaic/volumes:ro',
    `-e HIVE_URL=${shellQuote(s.hiveUrl)}${insecure(s.hiveUrl) ? ' -e HIVE_ALLOW_INSECURE=true' : ''}`,
    `-e DEVICE_TOKEN=${secret(s.token)}`,
    `-e DEVICE_PASSPHRASE=${secret(s.passphrase)}`,
    `mosaic/device:${shellQuote(s.version)}`,
  ].join(' \\\n  ');
}

/** The same device with Docker Compose, its secrets in files beside the compose file. */
export function deviceCompose(s: DeviceSettings, masked: boolean): string {
  const secret = (value: string) => (masked ? MASK : value);
  return `# compose.yaml; then: printf '%s' '<token>' > device-token; printf '%s' '<passphrase>' > passphrase; chmod 600 device-token passphrase
# token: ${secret(s.token)}
# passphrase: ${secret(s.passphrase)}
services:
  device:
    image: mosaic/device:${s.version}
    restart: unless-stopped
    environment:
      HIVE_URL: ${s.hiveUrl}${insecure(s.hiveUrl) ? '\n      HIVE_ALLOW_INSECURE: "true"' : ''}
      DEVICE_TOKEN_FILE: /run/secrets/device_token
      DEVICE_PASSPHRASE_FILE: /run/secrets/passphrase
      APPS_DIR: /var/lib/mosaic/apps
    secrets: [device_token, passphrase]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - plugin-socket:/tmp/mosaic
      - device-state:/var/lib/mosaic/device
      - /var/lib/mosaic/apps:/var/lib/mosaic/apps
      - /var/lib/mosaic/volumes:/var/lib/mosaic/volumes:ro
secrets:
  device_token: { file: ./device-token }
  passphrase: { file: ./passphrase }
volumes:
  plugin-socket:
  device-state:
`;
}
