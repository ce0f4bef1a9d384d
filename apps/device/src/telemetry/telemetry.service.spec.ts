import { Logger } from '@nestjs/common';
import { AppReportDto, ReportAppsDto, ReportVersionDto, ReportVolumesDto, VolumeReportDto, validatePayload } from '@mosaic/protocol';
import { FakeClock, deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { AppEventsService } from '../apps/app-events.service';
import { AppInventoryService } from '../apps/app-inventory.service';
import { DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { OwnContainerService } from '../docker/own-container.service';
import { StorageService } from '../storage/storage.service';
import { TelemetryService } from './telemetry.service';

const NOW = '2026-11-25T10:00:00.000Z';
const APP: AppReportDto = {
  instance: '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f',
  application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: '2.5' },
  state: 'running',
  containers: [{ service: 'app', containerId: 'c1', state: 'running' }],
};

describe('TelemetryService', () => {
  let clock: FakeClock;
  let sendReport: jest.Mock<Promise<void>, [string, unknown]>;
  let listApps: jest.Mock<Promise<AppReportDto[]>, []>;
  let volumes: jest.Mock<Promise<VolumeReportDto[]>, []>;
  let authenticatedListeners: Array<() => void>;
  let changeListeners: Array<(instance: string, settled: boolean) => void>;
  let service: TelemetryService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    jest.useFakeTimers();
    clock = new FakeClock(NOW);
    sendReport = jest.fn().mockResolvedValue(undefined);
    listApps = jest.fn().mockResolvedValue([APP]);
    volumes = jest.fn().mockResolvedValue([]);
    authenticatedListeners = [];
    changeListeners = [];
  });
  afterEach(() => {
    service?.onApplicationShutdown();
    jest.useRealTimers();
  });

  function start(overrides: Partial<DeviceConfig> = {}): TelemetryService {
    service = new TelemetryService(
      deviceConfig({ reportAppsIntervalS: 30, reportVolumesIntervalS: 60, reportVersionIntervalS: 3600, autoUpdate: false, ...overrides }),
      strictFake<HiveConnectionService>({ onAuthenticated: (l: () => void) => void authenticatedListeners.push(l) }, 'HiveConnectionService'),
      strictFake<OutboxService>({ sendReport }, 'OutboxService'),
      strictFake<AppInventoryService>({ apps: listApps }, 'AppInventoryService'),
      strictFake<AppEventsService>({ onChange: (l: (instance: string, settled: boolean) => void) => void changeListeners.push(l) }, 'AppEventsService'),
      strictFake<StorageService>({ volumes }, 'StorageService'),
      strictFake<OwnContainerService>({ details: async () => undefined }, 'OwnContainerService'),
      clock.asClock(),
    );
    service.onModuleInit();
    return service;
  }

  /** Moves the fake timers and the fake clock together, running promise jobs on the way. */
  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await jest.advanceTimersByTimeAsync(ms);
  }

  const sent = (event: string) => sendReport.mock.calls.filter(([e]) => e === event).map(([, payload]) => payload);

  it('sends nothing before the first interval or handshake', async () => {
    start();
    await advance(0);
    expect(sendReport).not.toHaveBeenCalled();
  });

  it('sends report.apps every REPORT_APPS_INTERVAL_S', async () => {
    start();
    await advance(29_999);
    expect(sent('report.apps')).toHaveLength(0);
    await advance(1);
    expect(sent('report.apps')).toEqual([{ at: '2026-11-25T10:00:30.000Z', apps: [APP] }]);
    await advance(30_000);
    expect(sent('report.apps')).toHaveLength(2);
    expect(validatePayload(ReportAppsDto, sent('report.apps')[1]).ok).toBe(true);
  });

  it('sends report.volumes every REPORT_VOLUMES_INTERVAL_S', async () => {
    start();
    await advance(59_999);
    expect(sent('report.volumes')).toHaveLength(0);
    await advance(1);
    expect(sent('report.volumes')).toEqual([{ at: '2026-11-25T10:01:00.000Z', volumes: [] }]);
    expect(validatePayload(ReportVolumesDto, sent('report.volumes')[0]).ok).toBe(true);
    await advance(120_000);
    expect(sent('report.volumes')).toHaveLength(3);
  });

  it('reads the intervals from the configuration', async () => {
    start({ reportAppsIntervalS: 7, reportVolumesIntervalS: 11 });
    await advance(77_000);
    expect(sent('report.apps')).toHaveLength(11);
    expect(sent('report.volumes')).toHaveLength(7);
  });

  it('clears its intervals at shutdown: nothing more is sent', async () => {
    start({ autoUpdate: true });
    await advance(3_600_000);
    const before = sendReport.mock.calls.length;
    expect(before).toBeGreaterThan(0);
    service.onApplicationShutdown();
    expect(jest.getTimerCount()).toBe(0);
    await advance(2 * 3_600_000);
    expect(sendReport.mock.calls.length).toBe(before);
  });

  describe('report.version', () => {
    it('is never sent without AUTO_UPDATE, neither on its interval nor after the handshake', async () => {
      start({ autoUpdate: false });
      authenticatedListeners.forEach((l) => l());
      await advance(2 * 3_600_000);
      expect(sent('report.version')).toEqual([]);
    });

    it('is sent every REPORT_VERSION_INTERVAL_S with AUTO_UPDATE=true', async () => {
      start({ autoUpdate: true });
      await advance(3_599_999);
      expect(sent('report.version')).toHaveLength(0);
      await advance(1);
      expect(sent('report.version')).toEqual([{ at: '2026-11-25T11:00:00.000Z', version: DEVICE_VERSION, autoUpdate: true }]);
      expect(validatePayload(ReportVersionDto, sent('report.version')[0]).ok).toBe(true);
    });

    it('is sent after the handshake with AUTO_UPDATE=true', async () => {
      start({ autoUpdate: true });
      authenticatedListeners.forEach((l) => l());
      await advance(0);
      expect(sent('report.version')).toHaveLength(1);
    });
  });

  it('sends report.apps and report.volumes at once after each accepted handshake', async () => {
    start();
    expect(authenticatedListeners).toHaveLength(1);
    authenticatedListeners[0]();
    await advance(0);
    expect(sendReport.mock.calls.map(([event]) => event).sort()).toEqual(['report.apps', 'report.volumes']);
    expect(sent('report.apps')).toEqual([{ at: NOW, apps: [APP] }]);

    authenticatedListeners[0]();
    await advance(0);
    expect(sendReport).toHaveBeenCalledTimes(4);
  });

  describe('appsChanged()', () => {
    it('reports within 2 s of a change', async () => {
      start();
      service.appsChanged();
      await advance(2_000);
      expect(sent('report.apps')).toHaveLength(1);
    });

    it('folds a burst of changes into one report', async () => {
      start();
      for (let i = 0; i < 10; i++) {
        service.appsChanged();
        await advance(90);
      }
      await advance(2_000);
      expect(sent('report.apps')).toHaveLength(1);
      expect(listApps).toHaveBeenCalledTimes(1);
    });

    it('reports again for a change after the previous report', async () => {
      start();
      service.appsChanged();
      await advance(2_000);
      service.appsChanged();
      await advance(2_000);
      expect(sent('report.apps')).toHaveLength(2);
    });

    it('is what app events from the engine lead to, once for a burst', async () => {
      start();
      expect(changeListeners).toHaveLength(1);
      changeListeners[0]('3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', false);
      changeListeners[0]('c232ab00-9414-11ec-b3c8-9f6bdeced846', false);
      await advance(2_000);
      expect(sent('report.apps')).toHaveLength(1);
    });

    it('reports apps and volumes at once when the device itself finished a start or stop, folding a pending burst into it', async () => {
      start();
      changeListeners[0]('3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', false);
      changeListeners[0]('3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f', true);
      await advance(0);
      expect(sent('report.apps')).toHaveLength(1);
      expect(sent('report.volumes')).toHaveLength(1);
      await advance(2_000);
      expect(sent('report.apps')).toHaveLength(1);
    });

    it('sends nothing after shutdown', async () => {
      start();
      service.appsChanged();
      service.onApplicationShutdown();
      await advance(2_000);
      expect(sendReport).not.toHaveBeenCalled();
    });
  });

  it('skips a report it cannot build and keeps reporting', async () => {
    start();
    listApps.mockRejectedValueOnce(new Error('engine gone'));
    await advance(30_000);
    expect(sent('report.apps')).toEqual([]);
    await advance(30_000);
    expect(sent('report.apps')).toHaveLength(1);
  });
});
