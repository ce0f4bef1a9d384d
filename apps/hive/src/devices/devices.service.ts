import { Injectable, Logger } from '@nestjs/common';
import { DeviceHealth, deviceHealth } from '@mosaic/hive-api';
import { randomUUID } from 'node:crypto';
import { ChangeFeed } from '../changes/change-feed';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { ReportsService } from '../reports/reports.service';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { DeviceRecord, DeviceRepository } from './device.repository';
import { generateDeviceToken, hashDeviceToken } from './device-token';

export interface DeviceView {
  id: string;
  name: string;
  online: boolean;
  authenticated: boolean;
  lastSeenAt: string | null;
  version: string | null;
  createdAt: string;
  /** When the Hive received the device's latest report.apps. */
  reportedAt: string | null;
  /** The health circle: green (connected, proved, reporting), amber, red (offline). */
  health: DeviceHealth;
}

/** The one time a device token is seen in clear. */
export interface CreatedDevice {
  id: string;
  name: string;
  token: string;
}

@Injectable()
export class DevicesService {
  private readonly logger = new Logger('Devices');

  constructor(
    private readonly devices: DeviceRepository,
    private readonly sessions: DeviceSessionRegistry,
    private readonly reports: ReportsService,
    private readonly changes: ChangeFeed = new ChangeFeed(),
  ) {}

  /** An empty name: the device names itself with its DEVICE_NAME (or host name) once it proves the passphrase. */
  async create(name: string): Promise<CreatedDevice> {
    const token = generateDeviceToken();
    const device: DeviceRecord = {
      id: randomUUID(),
      name,
      tokenHash: hashDeviceToken(token),
      createdAt: new Date().toISOString(),
      lastSeenAt: null,
      version: null,
    };
    await this.devices.insert(device);
    this.logger.log(`added device ${device.id} "${name}"`);
    this.changes.publish('devices', device.id);
    return { id: device.id, name, token };
  }

  async list(): Promise<DeviceView[]> {
    const devices = await this.devices.list();
    const receipts = await this.reports.receivedAtAll('apps');
    return devices.map((device) => this.view(device, receipts.get(device.id) ?? null));
  }

  async get(id: string): Promise<DeviceView> {
    const device = await this.require(id);
    return this.view(device, await this.reports.receivedAt(device.id, 'apps'));
  }

  /** Throws NOT_FOUND for an unknown device. */
  async require(id: string): Promise<DeviceRecord> {
    const device = await this.devices.findById(id);
    if (!device) throw new HiveError(HiveErrorCode.NOT_FOUND, `No device has the id ${id}.`);
    return device;
  }

  async rename(id: string, name: string): Promise<DeviceView> {
    if (!(await this.devices.rename(id, name))) throw new HiveError(HiveErrorCode.NOT_FOUND, `No device has the id ${id}.`);
    this.logger.log(`renamed device ${id} to "${name}"`);
    this.changes.publish('devices', id);
    return this.get(id);
  }

  /** Forgets the device and its token, and closes its connections at once. */
  async revoke(id: string): Promise<void> {
    if (!(await this.devices.delete(id))) throw new HiveError(HiveErrorCode.NOT_FOUND, `No device has the id ${id}.`);
    this.sessions.disconnectDevice(id);
    this.logger.log(`revoked device ${id}`);
    this.changes.publish('devices', id);
    this.changes.publish('apps');
  }

  /** The device a handshake token belongs to, if any. */
  findByToken(token: string): Promise<DeviceRecord | undefined> {
    return this.devices.findByTokenHash(hashDeviceToken(token));
  }

  /** After an accepted proof: the device is here, runs this version, and names itself if nobody named it. */
  /**
   * A device proved the passphrase: its version and when it was seen, in one statement; `name`,
   * its own, is adopted only by a device the Hive had no name for (`knownName` empty, as read at
   * its handshake): a name once given is never emptied again, so a named device costs no query for it.
   */
  async recordAuthenticated(id: string, version: string, name: string, knownName: string): Promise<void> {
    await this.devices.recordAuthenticated(id, version, new Date().toISOString());
    if (knownName === '' && (await this.devices.adoptName(id, name))) this.logger.log(`device ${id} named itself "${name}"`);
    this.changes.publish('devices', id);
  }

  async touch(id: string): Promise<void> {
    await this.devices.recordSeen(id, new Date().toISOString());
  }

  private view(device: DeviceRecord, reportedAt: string | null): DeviceView {
    const { online, authenticated } = this.sessions.status(device.id);
    return {
      id: device.id,
      name: device.name,
      online,
      authenticated,
      lastSeenAt: device.lastSeenAt,
      version: device.version,
      createdAt: device.createdAt,
      reportedAt,
      health: deviceHealth({ online, authenticated, reportedAt }),
    };
  }
}
