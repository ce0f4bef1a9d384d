import { Inject, Injectable } from '@nestjs/common';
import { IncomingMessage, request } from 'node:http';
import { ErrorCode, ProtocolError } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

/** A volume as the plugin's control API shows it. */
export interface PluginVolume {
  name: string;
  instance: string;
  role: 'app' | 'link';
  fingerprint: string;
  mountpoint: string;
  mounts: number;
  sizeBytes: number;
  lastReplicatedAt: string | null;
  replication: { state: 'idle' | 'replicating' | 'error'; error?: string; code?: string };
  writer: string;
  isWriter: boolean;
}

export interface PluginHealth {
  ok: boolean;
  version: string;
  driver: string;
  volumes: number;
  keys: number;
}

export interface CreateVolumeRequest {
  name: string;
  instance: string;
  role: 'app' | 'link';
  fingerprint: string;
  writer: string;
  failover?: boolean;
}

/** `GET /volumes/:name/writer`: who writes the volume's replica, as its snapshots say now. */
export interface PluginWriter {
  name: string;
  /** The device that holds the replica's top generation; null for an empty or contested replica. */
  writer: string | null;
  /** Whether this device (the volume's `writer`) may write the replica. */
  isWriter: boolean;
  /** Devices contend for the top generation: nobody writes until that settles. */
  contested: boolean;
  generation: number;
}

/** What the plugin staged for a move (POST /volumes/{name}/stage). */
export interface PluginStage {
  name: string;
  snapshot: string | null;
  snapshotAt: string | null;
  bytes: number;
  incremental: boolean;
}

/** The plugin answered with an error, or could not be reached (status 0, STORAGE_UNAVAILABLE). */
export class StorageControlError extends Error {
  constructor(
    readonly status: number,
    readonly error: ProtocolError,
  ) {
    super(error.message);
  }
}

/**
 * Deadlines of control calls, as the longest silence allowed on the socket. Quick ones (keys, the
 * volume list, which sums the volumes' sizes) get a minute. Creating, restoring, replicating or
 * removing a volume runs restic, which the plugin itself stops when it makes no progress
 * (RESTIC_STALL_TIMEOUT_S); a restore's progress lines keep its call alive.
 */
export const QUICK_CALL_TIMEOUT_MS = 60_000;
export const VOLUME_CALL_TIMEOUT_MS = 30 * 60_000;

/**
 * Thin adapter around the storage plugin's control API: HTTP+JSON on STORAGE_PLUGIN_SOCKET.
 * The only file that talks to the plugin.
 */
@Injectable()
export class StorageControlClient {
  constructor(@Inject(DEVICE_CONFIG) private readonly config: DeviceConfig) {}

  health(timeoutMs = 5000): Promise<PluginHealth> {
    return this.json('GET', '/health', undefined, timeoutMs);
  }

  keys(): Promise<string[]> {
    return this.json('GET', '/keys', undefined, QUICK_CALL_TIMEOUT_MS);
  }

  async registerKey(fingerprint: string, privateKey: string): Promise<void> {
    await this.json('PUT', `/keys/${fingerprint}`, { privateKey }, QUICK_CALL_TIMEOUT_MS);
  }

  volumes(): Promise<PluginVolume[]> {
    return this.json('GET', '/volumes', undefined, QUICK_CALL_TIMEOUT_MS);
  }

  /** Lists the replica's snapshots (one restic call): a volume call's deadline. */
  writer(name: string): Promise<PluginWriter> {
    return this.json('GET', `/volumes/${encodeURIComponent(name)}/writer`, undefined, VOLUME_CALL_TIMEOUT_MS);
  }

  replicate(name: string): Promise<{ name: string; lastReplicatedAt: string }> {
    return this.json('POST', `/volumes/${encodeURIComponent(name)}/replicate`, undefined, VOLUME_CALL_TIMEOUT_MS);
  }

  async removeVolume(name: string, replica: boolean): Promise<void> {
    await this.json('DELETE', `/volumes/${encodeURIComponent(name)}?replica=${replica}`, undefined, VOLUME_CALL_TIMEOUT_MS);
  }

  /** Creates (and restores) a volume; the plugin streams NDJSON progress lines, then the volume. */
  createVolume(body: CreateVolumeRequest, onProgress: (percent: number) => void): Promise<PluginVolume> {
    return this.streamed<PluginVolume>('POST', '/volumes', body, 'volume', onProgress);
  }

  /** Stages a move of the volume to this device: its replica restored ahead, nothing claimed. */
  stageVolume(name: string, fingerprint: string, onProgress: (percent: number) => void): Promise<PluginStage> {
    return this.streamed<PluginStage>('POST', `/volumes/${encodeURIComponent(name)}/stage`, { fingerprint }, 'staged', onProgress);
  }

  async discardStage(name: string): Promise<boolean> {
    return (await this.json<{ discarded: boolean }>('DELETE', `/volumes/${encodeURIComponent(name)}/stage`, undefined, VOLUME_CALL_TIMEOUT_MS)).discarded === true;
  }

  /** A long call the plugin answers with NDJSON: `{"percent"}` lines, then `{"<outcome>": …}` or `{"error"}`. */
  private async streamed<T>(method: string, path: string, body: unknown, outcome: string, onProgress: (percent: number) => void): Promise<T> {
    const res = await this.send(method, path, body, VOLUME_CALL_TIMEOUT_MS);
    if (res.statusCode !== 200) throw this.failure(res.statusCode ?? 0, await this.collect(res));
    return new Promise((resolve, reject) => {
      let rest = '';
      let settled = false;
      const settle = (fn: () => void) => {
        settled = true;
        fn();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        rest += chunk;
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim())) {
          let message: Record<string, unknown>;
          try {
            message = JSON.parse(line);
          } catch {
            continue;
          }
          if (typeof message.percent === 'number') onProgress(message.percent);
          if (message[outcome]) settle(() => resolve(message[outcome] as T));
          if (message.error) settle(() => reject(new StorageControlError(500, message.error as ProtocolError)));
        }
      });
      res.on('end', () => settled || reject(this.unavailable(`the plugin ended its answer without a ${outcome}`)));
      res.on('error', (err) => reject(this.unavailable(err.message)));
    });
  }

  private async json<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const res = await this.send(method, path, body, timeoutMs);
    const text = await this.collect(res);
    if ((res.statusCode ?? 0) >= 300) throw this.failure(res.statusCode ?? 0, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.unavailable(`the plugin answered ${path} with something that is not JSON`);
    }
  }

  /** One request on the control socket; a refused connection or silence is STORAGE_UNAVAILABLE. */
  private send(method: string, path: string, body: unknown, timeoutMs: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.config.storagePluginSocket, path, method, headers: { 'content-type': 'application/json' }, timeout: timeoutMs },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.unavailable(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'not running (no socket)' : err.message)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  private collect(res: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
  }

  private failure(status: number, text: string): StorageControlError {
    try {
      const error = JSON.parse(text) as ProtocolError;
      if (typeof error.code === 'string') return new StorageControlError(status, error);
    } catch {
      // fall through
    }
    return new StorageControlError(status, { code: ErrorCode.STORAGE_UNAVAILABLE, message: `the plugin answered ${status}` });
  }

  private unavailable(message: string): StorageControlError {
    return new StorageControlError(0, { code: ErrorCode.STORAGE_UNAVAILABLE, message: `storage plugin at ${this.config.storagePluginSocket}: ${message}` });
  }
}
