import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DiskSpaceResultDto, InfoResultDto, ProtocolException, validatePayload } from '@mosaic/protocol';
import { TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ComposeCliAdapter, ComposeUnavailableError } from '../docker/compose-cli.adapter';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { StorageService } from '../storage/storage.service';
import { DiskUsage, HostSystemAdapter } from './host-system.adapter';
import { SystemInfoService } from './system-info.service';

const FACTS = { hostname: 'nas', os: 'Linux 6.8.0', arch: 'x64', cpus: 4, memoryBytes: 8 * 1024 ** 3 };

describe('SystemInfoService', () => {
  const dirs = new TempDirs();
  let engineVersion: jest.Mock<Promise<{ version: string; apiVersion: string }>, []>;
  let composeVersion: jest.Mock<Promise<string>, []>;
  let pluginVersion: jest.Mock<Promise<string>, []>;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    engineVersion = jest.fn().mockResolvedValue({ version: '27.3.1', apiVersion: '1.47' });
    composeVersion = jest.fn().mockResolvedValue('2.29.7');
    pluginVersion = jest.fn().mockResolvedValue('0.1.0');
  });
  afterEach(() => dirs.cleanup());

  function service(config: DeviceConfig, host: HostSystemAdapter): SystemInfoService {
    return new SystemInfoService(
      config,
      host,
      strictFake<DockerEngineAdapter>({ version: engineVersion }, 'DockerEngineAdapter'),
      strictFake<ComposeCliAdapter>({ version: composeVersion }, 'ComposeCliAdapter'),
      strictFake<StorageService>({ pluginVersion }, 'StorageService'),
    );
  }

  describe('checkVersions()', () => {
    it('finds nothing wrong with a supported engine and Compose', async () => {
      await expect(service(deviceConfig({}), new HostSystemAdapter()).checkVersions()).resolves.toEqual([]);
    });

    it('names an engine and a Compose older than supported, and still answers when one cannot be asked', async () => {
      engineVersion.mockResolvedValue({ version: '19.03.15', apiVersion: '1.40' });
      composeVersion.mockRejectedValue(new ComposeUnavailableError('no compose'));
      await expect(service(deviceConfig({}), new HostSystemAdapter()).checkVersions()).resolves.toEqual([
        expect.stringMatching(/^Docker Engine 19\.03\.15 \(API 1\.40\) is older than Mosaic supports/),
      ]);
    });
  });

  describe('diskSpace()', () => {
    it('reports the real statfs of APPS_DIR and the volumes’ folder when both exist', async () => {
      const appsDir = dirs.make();
      const volumesDir = dirs.make();
      const paths = await service(deviceConfig({ appsDir, volumesDir }), new HostSystemAdapter()).diskSpace();
      expect(paths.map((p) => p.path)).toEqual([appsDir, volumesDir]);
      for (const p of paths) {
        expect(p.totalBytes).toBeGreaterThan(0);
        expect(p.freeBytes).toBeLessThanOrEqual(p.totalBytes);
        expect(p.availableBytes).toBeLessThanOrEqual(p.totalBytes);
        expect(p.availableBytes).toBeLessThanOrEqual(p.freeBytes);
        expect(Number.isInteger(p.totalBytes)).toBe(true);
      }
      expect(validatePayload(DiskSpaceResultDto, { paths }).ok).toBe(true);
    });

    it('leaves out a folder that does not exist yet', async () => {
      const appsDir = dirs.make();
      const volumesDir = join(dirs.make(), 'not-yet');
      const paths = await service(deviceConfig({ appsDir, volumesDir }), new HostSystemAdapter()).diskSpace();
      expect(paths.map((p) => p.path)).toEqual([appsDir]);
    });

    it('reports nothing when neither folder exists', async () => {
      const root = dirs.make();
      const config = deviceConfig({ appsDir: join(root, 'apps'), volumesDir: join(root, 'volumes') });
      await expect(service(config, new HostSystemAdapter()).diskSpace()).resolves.toEqual([]);
    });

    it('reports a folder once when APPS_DIR and the volumes’ folder are the same', async () => {
      const dir = dirs.make();
      const paths = await service(deviceConfig({ appsDir: dir, volumesDir: dir }), new HostSystemAdapter()).diskSpace();
      expect(paths).toHaveLength(1);
    });

    it('passes the adapter’s numbers on unchanged, per path', async () => {
      const usage: Record<string, DiskUsage> = {
        '/apps': { totalBytes: 1000, freeBytes: 400, availableBytes: 300 },
        '/volumes': { totalBytes: 5000, freeBytes: 100, availableBytes: 50 },
      };
      const host = strictFake<HostSystemAdapter>({ diskUsage: async (path: string) => usage[path] }, 'HostSystemAdapter');
      const paths = await service(deviceConfig({ appsDir: '/apps', volumesDir: '/volumes' }), host).diskSpace();
      expect(paths).toEqual([
        { path: '/apps', totalBytes: 1000, freeBytes: 400, availableBytes: 300 },
        { path: '/volumes', totalBytes: 5000, freeBytes: 100, availableBytes: 50 },
      ]);
    });

    it('fails on any error other than a missing folder', async () => {
      const denied = Object.assign(new Error('EACCES: permission denied, statfs'), { code: 'EACCES' });
      const host = strictFake<HostSystemAdapter>({ diskUsage: () => Promise.reject(denied) }, 'HostSystemAdapter');
      await expect(service(deviceConfig({ appsDir: '/apps', volumesDir: '/volumes' }), host).diskSpace()).rejects.toBe(denied);
    });
  });

  describe('info()', () => {
    const host = () => strictFake<HostSystemAdapter>({ facts: () => ({ ...FACTS }) }, 'HostSystemAdapter');

    it('fills every field of the result', async () => {
      const info = await service(deviceConfig(), host()).info();
      expect(info).toEqual({
        ...FACTS,
        deviceVersion: DEVICE_VERSION,
        dockerVersion: '27.3.1',
        composeVersion: '2.29.7',
        storagePluginVersion: '0.1.0',
      });
      expect(validatePayload(InfoResultDto, info)).toEqual({ ok: true, value: expect.anything() });
    });

    it('fills the host fields from the real machine', async () => {
      const info = await service(deviceConfig(), new HostSystemAdapter()).info();
      expect(info.hostname).toBe(hostname());
      expect(info.cpus).toBeGreaterThanOrEqual(1);
      expect(info.memoryBytes).toBeGreaterThan(0);
      expect(info.os.length).toBeGreaterThan(0);
      expect(validatePayload(InfoResultDto, info).ok).toBe(true);
    });

    it('turns an engine failure into DOCKER_ERROR', async () => {
      engineVersion.mockRejectedValue(new Error('connect ENOENT /var/run/docker.sock'));
      const failure = service(deviceConfig(), host()).info();
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({ code: 'DOCKER_ERROR', message: expect.stringContaining('ENOENT /var/run/docker.sock') });
    });

    it('turns a missing Compose into DOCKER_ERROR', async () => {
      composeVersion.mockRejectedValue(new ComposeUnavailableError('Docker Compose v2 is not available'));
      await expect(service(deviceConfig(), host()).info()).rejects.toMatchObject({
        code: 'DOCKER_ERROR',
        message: 'Docker Compose v2 is not available',
      });
    });

    it('reports DOCKER_ERROR when both fail', async () => {
      engineVersion.mockRejectedValue(new Error('engine down'));
      composeVersion.mockRejectedValue(new Error('compose missing'));
      await expect(service(deviceConfig(), host()).info()).rejects.toMatchObject({ code: 'DOCKER_ERROR' });
    });
  });
});
