import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import {
  RunningPlugin,
  TestKey,
  anyFileContains,
  generateKey,
  pluginConfig,
  pluginRoot,
  randomName,
  startPlugin,
  treeDigest,
} from '../support/storage-plugin';

jest.setTimeout(90_000);

/** s3rver ships no types; this is the part used here. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => S3rverServer = require('s3rver');

/** A real S3 API (s3rver) over HTTPS on 127.0.0.1, with a self-signed certificate restic is told to trust. */
describe('storage plugin: an s3: replica over HTTPS (s3rver)', () => {
  const root = pluginRoot('s3');
  const store = join(root.path, 's3-store');
  const cert = join(root.path, 'cert.pem');
  const device = randomUUID();
  let s3: S3rverServer;
  let url: string;
  let plugin: RunningPlugin;
  let key: TestKey;

  beforeAll(async () => {
    mkdirSync(store, { recursive: true });
    const keyFile = join(root.path, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: store,
      key: readFileSync(keyFile),
      cert: readFileSync(cert),
      configureBuckets: [{ name: 'mosaic' }],
    });
    const { port } = await s3.run();
    url = `s3:https://127.0.0.1:${port}/mosaic/replicas`;
    // The secret key in a file (AWS_SECRET_ACCESS_KEY_FILE): restic gets it from the plugin, not from a variable of its own.
    const secretFile = join(root.path, 's3-secret');
    writeFileSync(secretFile, 'S3RVER\n', { mode: 0o600 });
    plugin = await startPlugin(
      pluginConfig(join(root.path, 'a'), {
        REPLICA_URL: url,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY_FILE: secretFile,
        RESTIC_CACERT: cert,
      }),
    );
    key = await generateKey();
    expect((await plugin.control.registerKey(key)).status).toBe(200);
  });

  afterAll(async () => {
    await plugin?.close();
    await s3?.close();
    root.remove();
  });

  it('replicates to the bucket, stores ciphertext only, restores byte for byte, and deletes the replica on request', async () => {
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    expect(created.status).toBe(200);
    const marker = `s3-marker-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(created.body.volume.mountpoint, 'doc.txt'), marker);
    writeFileSync(join(created.body.volume.mountpoint, 'blob.bin'), randomBytes(256 * 1024));
    const before = treeDigest(created.body.volume.mountpoint);

    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect(anyFileContains(store, marker)).toBeNull();
    expect(Object.keys(treeDigest(store)).filter((path) => path.startsWith(`mosaic/replicas/${name}/config`))).not.toEqual([]);

    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await plugin.control.createVolume(request);
    expect(restored.lines.some((l) => l.stage === 'restore')).toBe(true);
    expect(treeDigest(restored.body.volume.mountpoint)).toEqual(before);

    // With replica=true every snapshot goes; the next create starts empty.
    expect((await plugin.control.request('DELETE', `/volumes/${name}?replica=true`)).body).toMatchObject({ replicaRemoved: true });
    const fresh = await plugin.control.createVolume(request);
    expect(fresh.lines).toEqual([{ volume: expect.objectContaining({ name, lastReplicatedAt: null }) }]);
    expect(treeDigest(fresh.body.volume.mountpoint)).toEqual({});
  });

  it('cannot reach the bucket without the certificate passed through (RESTIC_CACERT)', async () => {
    const untrusting = await startPlugin(
      pluginConfig(join(root.path, 'b'), { REPLICA_URL: url, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }),
    );
    try {
      await untrusting.control.registerKey(key);
      const answer = await untrusting.control.createVolume({
        name: randomName(),
        instance: randomUUID(),
        role: 'app',
        fingerprint: key.fingerprint,
        writer: device,
      });
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, message: expect.stringMatching(/x509|certificate/) });
    } finally {
      await untrusting.close();
    }
  });
});
