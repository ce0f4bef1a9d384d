import { Logger } from '@nestjs/common';
import { CommandType, SchedulerStopParamsDto } from '@mosaic/protocol';
import { FakeClock, TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { AppEventsService } from '../apps/app-events.service';
import { AppFilesAdapter } from '../apps/app-files.adapter';
import { AppInventoryService } from '../apps/app-inventory.service';
import { AppLifecycleService } from '../apps/app-lifecycle.service';
import { CommandHandler } from '../commands/command-handler';
import { CommandIntakeService } from '../commands/command-intake.service';
import { CommandJournalService } from '../commands/command-journal.service';
import { CommandRegistry } from '../commands/command-registry';
import { DeviceConfig } from '../config/device-config';
import { ComposeCliAdapter } from '../docker/compose-cli.adapter';
import { ContainerExecService } from '../docker/container-exec.service';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { KeystoreService } from '../keystore/keystore.service';
import { DeviceMetrics } from '../metrics/device-metrics';
import { StorageService } from '../storage/storage.service';
import { InstanceLocks } from './instance-locks';

const NOW = '2026-11-25T10:00:00.000Z';
const INSTANCE = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const OTHER = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

class Deferred {
  resolve!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.resolve = resolve));
}

describe('InstanceLocks', () => {
  it('gives an instance to one holder at a time, until it is released (once)', () => {
    const locks = new InstanceLocks();
    const release = locks.tryAcquire(INSTANCE);
    expect(release).toBeInstanceOf(Function);
    expect(locks.tryAcquire(INSTANCE)).toBeUndefined();
    expect(locks.tryAcquire(OTHER)).toBeInstanceOf(Function);
    release!();
    const again = locks.tryAcquire(INSTANCE);
    expect(again).toBeInstanceOf(Function);
    release!(); // a second release by the old holder frees nothing
    expect(locks.tryAcquire(INSTANCE)).toBeUndefined();
    again!();
    expect(locks.tryAcquire(INSTANCE)).toBeInstanceOf(Function);
  });

  describe('shared by the boot reconcile and the command intake', () => {
    const dirs = new TempDirs();
    let config: DeviceConfig;
    let locks: InstanceLocks;
    let ups: Array<{ project: string; done: Deferred }>;
    let stops: string[];

    beforeAll(() => Logger.overrideLogger(false));
    beforeEach(async () => {
      const root = dirs.make();
      config = deviceConfig({ appsDir: `${root}/apps`, stateDir: `${root}/state` });
      locks = new InstanceLocks();
      ups = [];
      stops = [];
    });
    afterEach(() => dirs.cleanup());

    /** An app on disk that should run and does not: what the reconcile brings up at boot. */
    async function appThatShouldRun(files: AppFilesAdapter, instance: string): Promise<void> {
      const metadata = {
        instance,
        application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1' },
        desired: 'running' as const,
        commands: {},
        links: {},
        updatedAt: NOW,
      };
      const staged = await files.stage(instance, { compose: 'services:\n  app:\n    image: mosaic-test/busybox\n', variables: {} });
      await files.commit(staged, metadata);
    }

    function lifecycle(files: AppFilesAdapter): AppLifecycleService {
      const compose = strictFake<ComposeCliAdapter>(
        {
          config: async () => ({ name: 'p', services: { app: { image: 'mosaic-test/busybox' } } }),
          up: (project: { name: string }) => {
            const done = new Deferred();
            ups.push({ project: project.name, done });
            return done.promise;
          },
        },
        'ComposeCliAdapter',
      );
      return new AppLifecycleService(
        config,
        files,
        compose,
        strictFake<ContainerExecService>({}, 'ContainerExecService'),
        strictFake<AppInventoryService>({ app: async () => undefined }, 'AppInventoryService'),
        strictFake<KeystoreService>({}, 'KeystoreService'),
        strictFake<StorageService>({ assertWriter: async () => undefined }, 'StorageService'),
        strictFake<AppEventsService>({ changed: () => undefined }, 'AppEventsService'),
        new FakeClock(NOW).asClock(),
        locks,
      );
    }

    function intake(): CommandIntakeService {
      const clock = new FakeClock(NOW).asClock();
      const stop: CommandHandler<SchedulerStopParamsDto> = {
        type: CommandType.SchedulerStop,
        lockKey: (p) => p.instance,
        execute: async (p) => {
          stops.push(p.instance);
          return { instance: p.instance, state: 'stopped', volumes: [] };
        },
      };
      const journal = new CommandJournalService(stateStore(config, clock), clock);
      journal.onModuleInit();
      return new CommandIntakeService(
        config,
        new CommandRegistry([stop as CommandHandler]),
        journal,
        strictFake<OutboxService>({ sendResult: async () => undefined }, 'OutboxService'),
        strictFake<HiveConnectionService>({}, 'HiveConnectionService'),
        clock,
        new DeviceMetrics(),
        locks,
      );
    }

    const stop = (n: number, instance: string) => ({ id: id(n), type: CommandType.SchedulerStop, issuedAt: NOW, params: { instance } });

    it('a command for an instance the reconcile is bringing up is refused BUSY, and accepted once it is done', async () => {
      const files = new AppFilesAdapter(config);
      await appThatShouldRun(files, INSTANCE);
      const commands = intake();
      const reconciled = lifecycle(files).reconcile();
      // Until its compose up is under way; a reconcile that ends first (it refused the app) fails the test, not hangs it.
      await Promise.race([
        new Promise<void>((resolve) => {
          const poll = () => (ups.length ? resolve() : setImmediate(poll));
          poll();
        }),
        reconciled.then((brought) => Promise.reject(new Error(`the reconcile ended without a compose up (brought up: ${brought.join(', ') || 'none'})`))),
      ]);
      expect(ups).toEqual([{ project: `mosaic-${INSTANCE}`, done: expect.any(Deferred) }]);

      expect(commands.receive(stop(1, INSTANCE))).toEqual({
        id: id(1),
        accepted: false,
        error: { code: 'BUSY', message: expect.stringMatching(/bringing it back up/) },
      });
      expect(commands.receive(stop(2, OTHER)).accepted).toBe(true); // another instance is not held

      ups[0].done.resolve();
      expect(await reconciled).toEqual([INSTANCE]);
      expect(commands.receive(stop(3, INSTANCE))).toEqual({ id: id(3), accepted: true });
      await commands.idle();
      expect(stops).toEqual([OTHER, INSTANCE]);
    });

    it('the reconcile leaves alone an instance a command holds', async () => {
      const files = new AppFilesAdapter(config);
      await appThatShouldRun(files, INSTANCE);
      const release = locks.tryAcquire(INSTANCE)!; // a command's, as the intake takes it
      expect(await lifecycle(files).reconcile()).toEqual([]);
      expect(ups).toEqual([]);
      release();
    });
  });
});
