// Test support: valid protocol payloads to start from; tests change one field to make them invalid.
import { randomBytes, randomUUID } from 'node:crypto';

/** Any base64 of 32 bytes is a verifier as far as the Hive can tell. */
export function randomVerifier(): string {
  return randomBytes(32).toString('base64');
}

export function appsReport(at: string, instance: string = randomUUID()) {
  return {
    at,
    apps: [
      {
        instance,
        application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
        state: 'running',
        containers: [{ service: 'app', containerId: 'c0ffee', state: 'running', health: 'healthy' }],
      },
    ],
  };
}

export function volumesReport(at: string, instance: string = randomUUID()) {
  return {
    at,
    volumes: [
      {
        name: `mosaic-${instance}-app`,
        instance,
        role: 'app',
        fingerprint: 'a'.repeat(40),
        publicKey: armored('PUBLIC', 'app'),
        lastReplicatedAt: null,
        replication: { state: 'idle' },
        sizeBytes: 1024,
      },
    ],
  };
}

export function infoResult() {
  return {
    hostname: 'box',
    os: 'linux',
    arch: 'x64',
    cpus: 4,
    memoryBytes: 8 * 1024 ** 3,
    deviceVersion: '1.2.3',
    dockerVersion: '24.0.0',
    composeVersion: '2.26.0',
    storagePluginVersion: '0.1.0',
  };
}

/** Shaped like ASCII armor; the Hive stores keys without reading them. */
export function armored(kind: 'PUBLIC' | 'PRIVATE', seed: string): string {
  return `-----BEGIN PGP ${kind} KEY BLOCK-----\n\n${Buffer.from(seed).toString('base64')}\n-----END PGP ${kind} KEY BLOCK-----\n`;
}

export function instanceKeys(seed: string) {
  return [
    {
      role: 'app',
      fingerprint: 'a'.repeat(40),
      publicKey: armored('PUBLIC', `${seed}-app`),
      encryptedPrivateKey: armored('PRIVATE', `${seed}-app`),
    },
    {
      role: 'link',
      fingerprint: 'c'.repeat(40),
      publicKey: armored('PUBLIC', `${seed}-link`),
      encryptedPrivateKey: armored('PRIVATE', `${seed}-link`),
    },
  ];
}
