import { Logger } from '@nestjs/common';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { strictFake } from '../../../../test/support/strict-fake';
import { dockerCall, pluginConfig, pluginRoot, unixRequest } from '../../../../test/support/storage-plugin';
import { VolumeRecord } from '../volumes/volume-record';
import { CreateVolumeRequest, VolumesService } from '../volumes/volumes.service';
import { PluginApiHandler } from './plugin-api.handler';
import { PluginApiServer } from './plugin-api.server';

const FINGERPRINT = 'a'.repeat(40);
const INSTANCE = '3f0e8c1a-8a3b-4c5d-9e6f-0a1b2c3d4e5f';
const WRITER = '9b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d';

/** The part of VolumesService the plugin API uses, in memory. */
class FakeVolumes {
  readonly records = new Map<string, VolumeRecord>();
  readonly created: CreateVolumeRequest[] = [];
  readonly calls: string[] = [];

  add(name: string): void {
    this.records.set(name, {
      name,
      instance: INSTANCE,
      role: 'app',
      fingerprint: FINGERPRINT,
      writer: WRITER,
      createdAt: '2026-11-25T10:00:00.000Z',
      mounts: {},
      lastReplicatedAt: null,
      replication: { state: 'idle' },
      isWriter: true,
    });
  }
  has(name: string): boolean {
    return this.records.has(name);
  }
  names(): string[] {
    return [...this.records.keys()];
  }
  record(name: string): VolumeRecord {
    const record = this.records.get(name);
    if (!record) throw new ProtocolException(ErrorCode.NOT_FOUND, `No volume named ${name}.`);
    return record;
  }
  mountpoint(name: string): string {
    return `/volumes/${name}/data`;
  }
  async mount(name: string, id: string): Promise<string> {
    this.record(name);
    this.calls.push(`mount ${name} ${id}`);
    return this.mountpoint(name);
  }
  unmount(name: string, id: string): void {
    this.record(name);
    this.calls.push(`unmount ${name} ${id}`);
  }
  async create(request: CreateVolumeRequest): Promise<void> {
    this.created.push(request);
    this.add(request.name);
  }
  async removeForDocker(name: string): Promise<void> {
    this.record(name);
    this.records.delete(name);
  }
}

describe('the Docker plugin API on its socket', () => {
  const root = pluginRoot('api');
  const config = pluginConfig(root.path);
  const socket = join(config.pluginDir, 'mosaic.sock');
  let volumes: FakeVolumes;
  let server: PluginApiServer;

  beforeAll(async () => {
    Logger.overrideLogger(false); // the failures these tests provoke are logged as warnings
    volumes = new FakeVolumes();
    server = new PluginApiServer(
      config,
      new PluginApiHandler(strictFake<VolumesService>(volumes as unknown as VolumesService, 'VolumesService')),
    );
    await server.onApplicationBootstrap();
  });

  beforeEach(() => {
    volumes.records.clear();
    volumes.created.length = 0;
    volumes.calls.length = 0;
  });

  afterAll(async () => {
    Logger.overrideLogger(true);
    await server.onApplicationShutdown();
    root.remove();
  });

  it('serves DOCKER_PLUGIN_DIR/<driver>.sock with mode 0660 or stricter', () => {
    const stat = lstatSync(socket);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o117).toBe(0);
  });

  it('activates as a VolumeDriver and says it is local, with no Content-Type and no body', async () => {
    const activate = await unixRequest(socket, 'POST', '/Plugin.Activate');
    expect(activate.status).toBe(200);
    expect(activate.body).toEqual({ Implements: ['VolumeDriver'], Err: '' });
    expect(activate.headers['content-type']).toMatch(/json/);
    expect((await dockerCall(socket, 'VolumeDriver.Capabilities', {})).body).toEqual({ Capabilities: { Scope: 'local' }, Err: '' });
  });

  it('accepts any Content-Type, as Docker sends none', async () => {
    volumes.add('v1');
    const variants: Record<string, string>[] = [
      {},
      { 'Content-Type': 'text/plain' },
      { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' },
    ];
    for (const headers of variants) {
      const answer = await unixRequest(socket, 'POST', '/VolumeDriver.Path', JSON.stringify({ Name: 'v1' }), headers);
      expect(answer.body).toEqual({ Mountpoint: '/volumes/v1/data', Err: '' });
    }
  });

  it('answers malformed JSON, a non-object body and an oversized body with a clear Err, and keeps serving', async () => {
    const malformed = await unixRequest(socket, 'POST', '/VolumeDriver.Get', '{"Name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ Err: 'request body is not valid JSON' });

    const array = await unixRequest(socket, 'POST', '/VolumeDriver.Get', '["v1"]');
    expect(array.body).toEqual({ Err: 'request body must be a JSON object' });

    const oversized = await unixRequest(
      socket,
      'POST',
      '/VolumeDriver.Create',
      JSON.stringify({ Name: 'v2', Opts: { pad: 'x'.repeat(70 * 1024) } }),
    );
    expect(oversized.status).toBe(413);
    expect(oversized.body).toEqual({ Err: 'request body larger than 65536 bytes' });
    expect(volumes.created).toEqual([]);

    expect((await unixRequest(socket, 'POST', '/Plugin.Activate')).status).toBe(200);
  });

  it('answers an unknown volume with Err for every volume call', async () => {
    for (const endpoint of ['Get', 'Path', 'Mount', 'Unmount', 'Remove']) {
      const answer = await dockerCall(socket, `VolumeDriver.${endpoint}`, { Name: 'nothing', ID: 'c1' });
      expect(answer.body).toEqual({ Err: 'No volume named nothing.' });
    }
  });

  it('refuses bad names, a missing mount ID, unknown endpoints and other methods', async () => {
    expect((await dockerCall(socket, 'VolumeDriver.Get', { Name: '../etc' })).body.Err).toMatch(/not a valid volume name/);
    expect((await dockerCall(socket, 'VolumeDriver.Get', {})).body.Err).toBe('Name is required');
    volumes.add('v1');
    expect((await dockerCall(socket, 'VolumeDriver.Mount', { Name: 'v1' })).body.Err).toBe('ID is required');
    expect((await dockerCall(socket, 'VolumeDriver.Nope', {})).status).toBe(404);
    expect((await unixRequest(socket, 'GET', '/Plugin.Activate')).status).toBe(405);
    expect(volumes.calls).toEqual([]);
  });

  it('mounts and unmounts by mount ID, gets and lists', async () => {
    volumes.add('v1');
    expect((await dockerCall(socket, 'VolumeDriver.Mount', { Name: 'v1', ID: 'c1' })).body).toEqual({
      Mountpoint: '/volumes/v1/data',
      Err: '',
    });
    expect((await dockerCall(socket, 'VolumeDriver.Unmount', { Name: 'v1', ID: 'c1' })).body).toEqual({ Err: '' });
    expect(volumes.calls).toEqual(['mount v1 c1', 'unmount v1 c1']);
    const got = (await dockerCall(socket, 'VolumeDriver.Get', { Name: 'v1' })).body;
    expect(got).toEqual({
      Volume: {
        Name: 'v1',
        Mountpoint: '/volumes/v1/data',
        Status: expect.objectContaining({ instance: INSTANCE, fingerprint: FINGERPRINT, replication: 'idle', isWriter: true }),
      },
      Err: '',
    });
    expect((await dockerCall(socket, 'VolumeDriver.List', {})).body).toEqual({
      Volumes: [{ Name: 'v1', Mountpoint: '/volumes/v1/data' }],
      Err: '',
    });
  });

  it('accepts a volume prepared through the control API as is, and refuses options that contradict it', async () => {
    volumes.add('v1');
    expect((await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v1', Opts: {} })).body).toEqual({ Err: '' });
    expect((await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v1', Opts: { fingerprint: FINGERPRINT } })).body).toEqual({ Err: '' });
    expect((await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v1', Opts: { fingerprint: 'b'.repeat(40) } })).body.Err).toMatch(
      /exists with another fingerprint/,
    );
    expect(volumes.created).toEqual([]);
  });

  it("creates an unprepared volume from Mosaic's options, after checking them", async () => {
    const unprepared = await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v2' });
    expect(unprepared.body.Err).toMatch(/not prepared by Mosaic/);
    const bad = await dockerCall(socket, 'VolumeDriver.Create', {
      Name: 'v2',
      Opts: { instance: 'x', role: 'db', fingerprint: 'F'.repeat(40), writer: WRITER },
    });
    expect(bad.body.Err).toBe(
      'instance must be a lower-case UUID; role must be one of app, link; fingerprint must be 40 lower-case hex digits',
    );
    const extra = await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v2', Opts: { size: '1G' } });
    expect(extra.body.Err).toMatch(/unknown option\(s\) size/);
    expect(volumes.created).toEqual([]);

    const opts = { instance: INSTANCE, role: 'link', fingerprint: FINGERPRINT, writer: WRITER };
    expect((await dockerCall(socket, 'VolumeDriver.Create', { Name: 'v2', Opts: opts })).body).toEqual({ Err: '' });
    expect(volumes.created).toEqual([{ name: 'v2', ...opts }]);
  });
});
