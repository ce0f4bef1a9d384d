import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ErrorCode,
  Events,
  KeyRecordDto,
  KeyRole,
  KeysPutDto,
  OkAckDto,
  ProtocolException,
  validatePayload,
} from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { Secret } from '../config/secret';
import { HiveConnectionService, HiveUnavailableError } from '../hive/hive-connection.service';
import { KeyCryptoAdapter, OpenedKey, WrongPassphraseError } from './key-crypto.adapter';

export interface InstanceKey {
  role: KeyRole;
  fingerprint: string;
  publicKey: string;
  encryptedPrivateKey: string;
  /** The unprotected key, in memory only. */
  privateKey: Secret;
}

export type InstanceKeys = Record<KeyRole, InstanceKey>;

const ROLES: KeyRole[] = ['app', 'link'];

/** `failover`: never make new keys. `background`: nothing waits for them (keys opened ahead): the key jobs run at a low CPU priority. */
export interface KeysForOptions {
  failover: boolean;
  background?: boolean;
}

/**
 * §3: the two key pairs of each instance. New keys are protected with the passphrase and stored
 * in Hive; existing ones are fetched from Hive and opened. Plain keys never leave this process.
 */
@Injectable()
export class KeystoreService {
  private readonly logger = new Logger('Keystore');
  private readonly cache = new Map<string, InstanceKeys>();
  private readonly opening = new Map<string, Promise<InstanceKeys>>();
  /** Instances a command asked keys for (KeysAheadService forgets only keys nothing else wanted). */
  private readonly forCommands = new Set<string>();

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly crypto: KeyCryptoAdapter,
    private readonly hive: HiveConnectionService,
  ) {}

  /** The keys an instance already has here, if any (no Hive round trip). */
  cached(instance: string): InstanceKeys | undefined {
    return this.cache.get(instance);
  }

  /**
   * The instance's keys: from memory, else from Hive, else (not on failover) new ones.
   * A failover never generates keys: without keys in Hive it fails with KEYS_MISSING.
   */
  async keysFor(instance: string, options: KeysForOptions): Promise<InstanceKeys> {
    if (!options.background) this.forCommands.add(instance);
    const known = this.cache.get(instance);
    if (known) return known;
    // Keys being opened already (ahead, or by another command) are waited for, not opened twice.
    const pending = this.opening.get(instance);
    if (pending) {
      try {
        return await pending;
      } catch {
        // That open failed, maybe for a passing reason (a background one that met a timeout), or
        // could not create keys where this call may: this call tries on its own.
      }
    }
    const opening = this.load(instance, options);
    this.opening.set(instance, opening);
    try {
      const keys = await opening;
      this.cache.set(instance, keys);
      return keys;
    } finally {
      if (this.opening.get(instance) === opening) this.opening.delete(instance);
    }
  }

  private async load(instance: string, options: KeysForOptions): Promise<InstanceKeys> {
    const stored = await this.fetch(instance);
    if (stored) return this.open(instance, stored, options.background === true);
    if (options.failover) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `Hive has no keys for instance ${instance}; a failover cannot create new ones.`);
    }
    return this.create(instance);
  }

  forget(instance: string): void {
    this.cache.delete(instance);
    this.forCommands.delete(instance);
  }

  /** Whether a command (not keys opened ahead) asked for the instance's keys since they were last forgotten. */
  neededByCommands(instance: string): boolean {
    return this.forCommands.has(instance);
  }

  private async fetch(instance: string): Promise<KeyRecordDto[] | undefined> {
    const response = (await this.ask(Events.keysGet, { instance })) as { ok?: unknown; keys?: unknown; error?: { code?: unknown } };
    if (response?.ok === false && response.error?.code === ErrorCode.NOT_FOUND) return undefined;
    if (response?.ok !== true || !Array.isArray(response.keys)) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `Hive answered keys.get with ${JSON.stringify(response).slice(0, 200)}.`);
    }
    const records: KeyRecordDto[] = [];
    for (const item of response.keys) {
      const checked = validatePayload(KeyRecordDto, item);
      if (!checked.ok) throw new ProtocolException(ErrorCode.KEYS_MISSING, 'Hive returned a malformed key.', checked.details);
      records.push(checked.value);
    }
    if (!ROLES.every((role) => records.some((r) => r.role === role))) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `Hive does not hold both keys (app, link) of instance ${instance}.`);
    }
    return records;
  }

  private async open(instance: string, records: KeyRecordDto[], background = false): Promise<InstanceKeys> {
    const opened = await Promise.all(
      ROLES.map(async (role): Promise<InstanceKey> => {
        const record = records.find((r) => r.role === role) as KeyRecordDto;
        let key: OpenedKey;
        try {
          key = await this.crypto.open(record.encryptedPrivateKey, record.publicKey, this.config.passphrase.reveal(), { background });
        } catch (err) {
          if (err instanceof WrongPassphraseError) {
            throw new ProtocolException(ErrorCode.PASSPHRASE_MISMATCH, `The ${role} key of instance ${instance} does not open with this device's passphrase.`);
          }
          throw err;
        }
        // The key (private and public part) must be the one Hive says it is, or replica ownership could be confused.
        if ([key.fingerprint, key.publicFingerprint].some((fingerprint) => fingerprint !== record.fingerprint)) {
          throw new ProtocolException(ErrorCode.KEYS_MISSING, `The ${role} key of instance ${instance} does not match its fingerprint.`);
        }
        return { ...record, role, privateKey: new Secret(key.privateKey) };
      }),
    );
    this.logger.log(`opened the keys of instance ${instance}`);
    return { app: opened[0], link: opened[1] };
  }

  private async create(instance: string): Promise<InstanceKeys> {
    const made = await Promise.all(
      ROLES.map(async (role): Promise<InstanceKey> => {
        const key = await this.crypto.create(`mosaic ${role} ${instance}`, this.config.passphrase.reveal(), this.config.argon2);
        const { fingerprint, publicKey, encryptedPrivateKey } = key;
        return { role, fingerprint, publicKey, encryptedPrivateKey, privateKey: new Secret(key.privateKey) };
      }),
    );
    const put: KeysPutDto = {
      instance,
      keys: made.map(({ role, fingerprint, publicKey, encryptedPrivateKey }) => ({ role, fingerprint, publicKey, encryptedPrivateKey })),
    };
    const ack = validatePayload(OkAckDto, await this.ask(Events.keysPut, put));
    if (!ack.ok || !ack.value.ok) {
      const code = ack.ok ? ack.value.error?.code : undefined;
      if (code === ErrorCode.KEYS_EXIST) {
        // Another device stored keys for this instance in the meantime: use those.
        const stored = await this.fetch(instance);
        if (stored) return this.open(instance, stored);
      }
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `Hive did not store the new keys of instance ${instance} (${code ?? 'malformed answer'}).`);
    }
    this.logger.log(`created and stored the keys of instance ${instance}`);
    return { app: made[0], link: made[1] };
  }

  private async ask(event: string, payload: unknown): Promise<unknown> {
    try {
      return await this.hive.request(event, payload);
    } catch (err) {
      if (err instanceof HiveUnavailableError) {
        throw new ProtocolException(ErrorCode.KEYS_MISSING, `The keys of an instance need Hive, which is not reachable: ${err.message}`);
      }
      throw err;
    }
  }
}
