import { Logger } from '@nestjs/common';
import { lstatSync } from 'node:fs';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { strictFake } from '../../../../test/support/strict-fake';
import { ControlClient, TestKey, generateKey, pluginConfig, pluginRoot, unixRequest } from '../../../../test/support/storage-plugin';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { KeyRegistry } from '../keys/key-registry.service';
import { OpenPgpKeyAdapter } from '../keys/openpgp-key.adapter';
import { VolumeView } from '../volumes/volume-record';
import { CreateVolumeRequest, VolumesService } from '../volumes/volumes.service';
import { ControlApiRouter } from './control-api.router';
import { ControlApiServer } from './control-api.server';

const INSTANCE = '3f0e8c1a-8a3b-4c5d-9e6f-0a1b2c3d4e5f';
const WRITER = '9b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d';

function view(name: string): VolumeView {
  return {
    name,
    instance: INSTANCE,
    role: 'app',
    fingerprint: 'a'.repeat(40),
    mountpoint: `/v/${name}/data`,
    mounts: 0,
    sizeBytes: 0,
    lastReplicatedAt: null,
    replication: { state: 'idle' },
    writer: WRITER,
    isWriter: true,
  };
}

/** The part of VolumesService the control API uses, scripted per test. */
class FakeVolumes {
  created: CreateVolumeRequest[] = [];
  removed: Array<{ name: string; replica: boolean }> = [];
  createWith: (request: CreateVolumeRequest, onProgress?: (p: number) => void) => Promise<VolumeView> = async (r) => view(r.name);
  replicateWith: (name: string) => Promise<{ name: string; lastReplicatedAt: string }> = async (name) => ({
    name,
    lastReplicatedAt: '2026-11-25T10:00:00.000Z',
  });

  count(): number {
    return 2;
  }
  async list(): Promise<VolumeView[]> {
    return [view('v1'), view('v2')];
  }
  async view(name: string): Promise<VolumeView> {
    if (name !== 'v1') throw new ProtocolException(ErrorCode.NOT_FOUND, `No volume named ${name}.`);
    return view(name);
  }
  create(request: CreateVolumeRequest, onProgress?: (p: number) => void): Promise<VolumeView> {
    this.created.push(request);
    return this.createWith(request, onProgress);
  }
  replicate(name: string) {
    return this.replicateWith(name);
  }
  async remove(name: string, options: { replica: boolean }): Promise<void> {
    this.removed.push({ name, ...options });
  }
  async writer(name: string) {
    if (name !== 'v1') throw new ProtocolException(ErrorCode.NOT_FOUND, `No volume named ${name}.`);
    return { name, writer: INSTANCE, isWriter: false, contested: false, generation: 2 };
  }
}

describe('the control API on its socket', () => {
  const root = pluginRoot('control');
  const config = pluginConfig(root.path);
  const client = new ControlClient(config.controlSocket);
  let volumes: FakeVolumes;
  let server: ControlApiServer;
  let key: TestKey;

  function body(extra: Record<string, unknown> = {}) {
    return { name: 'v1', instance: INSTANCE, role: 'app', fingerprint: key.fingerprint, writer: WRITER, ...extra };
  }

  beforeAll(async () => {
    Logger.overrideLogger(false); // the failures these tests provoke are logged as warnings
    key = await generateKey();
    volumes = new FakeVolumes();
    const keys = new KeyRegistry(new OpenPgpKeyAdapter());
    server = new ControlApiServer(
      config,
      new ControlApiRouter(config, strictFake<VolumesService>(volumes as unknown as VolumesService, 'VolumesService'), keys, new PluginMetrics()),
    );
    await server.onApplicationBootstrap();
  });

  beforeEach(() => {
    volumes.created = [];
    volumes.removed = [];
  });

  afterAll(async () => {
    Logger.overrideLogger(true);
    await server.onApplicationShutdown();
    root.remove();
  });

  it('serves STORAGE_PLUGIN_SOCKET with mode 0660 or stricter and answers /health', async () => {
    expect(lstatSync(config.controlSocket).mode & 0o117).toBe(0);
    const health = await client.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      ok: true,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      driver: 'mosaic',
      volumes: 2,
      keys: expect.any(Number),
    });
  });

  it('registers a key under its fingerprint, lists fingerprints only, and forgets it', async () => {
    expect(await client.registerKey(key)).toMatchObject({ status: 200, body: { fingerprint: key.fingerprint } });
    const listed = await client.request('GET', '/keys');
    expect(listed.body).toEqual([key.fingerprint]);
    expect((await client.request('DELETE', `/keys/${key.fingerprint}`)).status).toBe(200);
    expect((await client.request('GET', '/keys')).body).toEqual([]);
    expect((await client.request('DELETE', `/keys/${key.fingerprint}`)).body.code).toBe(ErrorCode.NOT_FOUND);
  });

  it('refuses bad key requests with 400 and a protocol error', async () => {
    const upper = await client.request('PUT', `/keys/${key.fingerprint.toUpperCase()}`, { privateKey: key.privateKey });
    expect(upper).toMatchObject({ status: 400, body: { code: ErrorCode.INVALID_PARAMS } });
    const notArmored = await client.request('PUT', `/keys/${key.fingerprint}`, { privateKey: 'hello' });
    expect(notArmored.body).toMatchObject({ code: ErrorCode.INVALID_PARAMS, details: [{ field: 'privateKey' }] });
    const extra = await client.request('PUT', `/keys/${key.fingerprint}`, { privateKey: key.privateKey, passphrase: 'x' });
    expect(extra.body).toMatchObject({ code: ErrorCode.INVALID_PARAMS, details: [{ field: 'passphrase' }] });
    const broken = key.privateKey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect((await client.request('PUT', `/keys/${key.fingerprint}`, { privateKey: broken })).status).toBe(400);
  });

  it('answers GET /volumes/:name/writer with who writes the replica now; 404 for an unknown volume, 400 for a bad name', async () => {
    expect(await client.request('GET', '/volumes/v1/writer')).toMatchObject({
      status: 200,
      body: { name: 'v1', writer: INSTANCE, isWriter: false, contested: false, generation: 2 },
    });
    expect(await client.request('GET', '/volumes/v9/writer')).toMatchObject({ status: 404, body: { code: ErrorCode.NOT_FOUND } });
    expect(await client.request('GET', '/volumes/-bad/writer')).toMatchObject({ status: 400, body: { code: ErrorCode.INVALID_PARAMS } });
    expect((await client.request('POST', '/volumes/v1/writer')).status).toBe(405);
  });

  it('validates POST /volumes: every field, unknown fields refused, nothing created', async () => {
    const answer = await client.request(
      'POST',
      '/volumes',
      body({ name: '../x', instance: 'NOT-A-UUID', role: 'db', failover: 'yes', size: 3 }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe(ErrorCode.INVALID_PARAMS);
    expect(answer.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['failover', 'instance', 'name', 'role', 'size']);
    expect((await unixRequest(config.controlSocket, 'POST', '/volumes', '{"name":')).body).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      message: expect.stringMatching(/not valid JSON/),
    });
    expect((await unixRequest(config.controlSocket, 'POST', '/volumes', JSON.stringify({ pad: 'x'.repeat(70_000) }))).status).toBe(400);
    expect(volumes.created).toEqual([]);
  });

  it('answers POST /volumes as NDJSON: restore progress, then the volume', async () => {
    volumes.createWith = async (request, onProgress) => {
      for (const p of [0, 40, 100]) onProgress?.(p);
      return view(request.name);
    };
    const created = await client.createVolume(body({ failover: true }));
    expect(created.status).toBe(200);
    expect(created.lines).toEqual([
      { stage: 'restore', percent: 0 },
      { stage: 'restore', percent: 40 },
      { stage: 'restore', percent: 100 },
      { volume: view('v1') },
    ]);
    expect(volumes.created).toEqual([body({ failover: true })]);
  });

  it('ends the NDJSON with an error line when the restore fails midway, and answers an early failure with its status', async () => {
    volumes.createWith = async (_request, onProgress) => {
      onProgress?.(0);
      throw new ProtocolException(ErrorCode.RESTORE_FAILED, 'The disk filled up while restoring v1; nothing was kept.');
    };
    const midway = await client.createVolume(body());
    expect(midway.status).toBe(200);
    expect(midway.lines).toEqual([
      { stage: 'restore', percent: 0 },
      { error: { code: ErrorCode.RESTORE_FAILED, message: 'The disk filled up while restoring v1; nothing was kept.' } },
    ]);

    volumes.createWith = async () => {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, 'The key is not registered.');
    };
    const early = await client.createVolume(body());
    expect(early).toMatchObject({ status: 409, body: { code: ErrorCode.KEYS_MISSING } });
  });

  it('lists volumes and shows one', async () => {
    expect((await client.request('GET', '/volumes')).body).toEqual([view('v1'), view('v2')]);
    expect((await client.request('GET', '/volumes/v1')).body).toEqual(view('v1'));
    expect((await client.request('GET', '/volumes/v9')).status).toBe(404);
  });

  it('replicates on request and maps failures to their status', async () => {
    expect((await client.request('POST', '/volumes/v1/replicate')).body).toEqual({
      name: 'v1',
      lastReplicatedAt: '2026-11-25T10:00:00.000Z',
    });
    expect((await client.request('POST', '/volumes/v1/replicate', {})).status).toBe(200);
    expect((await client.request('POST', '/volumes/v1/replicate', { now: true })).status).toBe(400);
    for (const [code, status] of [
      [ErrorCode.REPLICATION_FAILED, 502],
      [ErrorCode.NOT_WRITER, 409],
      [ErrorCode.KEYS_MISSING, 409],
      [ErrorCode.NOT_FOUND, 404],
    ] as const) {
      volumes.replicateWith = async () => {
        throw new ProtocolException(code, 'no');
      };
      expect(await client.request('POST', '/volumes/v1/replicate')).toMatchObject({ status, body: { code, message: 'no' } });
    }
  });

  it('removes a volume, with its replica only when replica=true', async () => {
    expect((await client.request('DELETE', '/volumes/v1')).status).toBe(200);
    expect((await client.request('DELETE', '/volumes/v1?replica=true')).body).toEqual({ name: 'v1', removed: true, replicaRemoved: true });
    expect((await client.request('DELETE', '/volumes/v1?replica=yes')).status).toBe(400);
    expect((await client.request('DELETE', '/volumes/v1?force=true')).status).toBe(400);
    expect(volumes.removed).toEqual([
      { name: 'v1', replica: false },
      { name: 'v1', replica: true },
    ]);
  });

  it('answers unknown routes with 404 and other methods with 405, as protocol errors', async () => {
    expect(await client.request('GET', '/nothing')).toMatchObject({ status: 404, body: { code: ErrorCode.NOT_FOUND } });
    expect(await client.request('PATCH', '/volumes')).toMatchObject({
      status: 405,
      body: { message: expect.stringMatching(/GET or POST/) },
    });
  });
});
