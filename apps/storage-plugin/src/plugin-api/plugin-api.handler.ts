import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, Patterns, ProtocolException, isPlainObject } from '@mosaic/protocol';
import { BodyResult } from '../http/unix-socket-server';
import { VOLUME_NAME_PATTERN, VOLUME_ROLES, VolumeRole } from '../volumes/volume-record';
import { VolumesService } from '../volumes/volumes.service';

/** Docker's plugin requests are small JSON objects; anything larger is refused. */
export const PLUGIN_BODY_LIMIT = 64 * 1024;

export interface PluginAnswer {
  status: number;
  body: Record<string, unknown>;
}

type Body = Record<string, unknown>;

/** The request itself is wrong (400). */
class PluginRequestError extends Error {}
class UnknownEndpoint extends Error {}

/** The Create options Docker may pass (`docker volume create -d mosaic -o instance=…`). */
const CREATE_OPTIONS = ['instance', 'role', 'fingerprint', 'writer'] as const;

function name(body: Body): string {
  const value = body.Name;
  if (typeof value !== 'string' || !VOLUME_NAME_PATTERN.test(value)) {
    throw new PluginRequestError(typeof value === 'string' ? `"${value.slice(0, 140)}" is not a valid volume name` : 'Name is required');
  }
  return value;
}

function mountId(body: Body): string {
  const value = body.ID;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new PluginRequestError('ID is required');
  return value;
}

/**
 * The Docker volume plugin protocol (the legacy one: /Plugin.Activate and /VolumeDriver.*, JSON
 * over the plugin socket). Docker sends no Content-Type, so any is accepted; every answer is JSON
 * with `Err` ("" on success).
 */
@Injectable()
export class PluginApiHandler {
  private readonly logger = new Logger('PluginApi');

  constructor(private readonly volumes: VolumesService) {}

  async handle(method: string, url: string, read: BodyResult): Promise<PluginAnswer> {
    const path = url.split('?')[0];
    if (method !== 'POST') return { status: 405, body: { Err: `${path} takes POST` } };
    if (!read.ok) {
      return read.reason === 'too-large'
        ? { status: 413, body: { Err: `request body larger than ${PLUGIN_BODY_LIMIT} bytes` } }
        : { status: 400, body: { Err: 'request body incomplete' } };
    }
    let body: Body;
    try {
      body = this.parse(read.body);
    } catch (err) {
      return { status: 400, body: { Err: (err as Error).message } };
    }
    try {
      return { status: 200, body: { ...(await this.route(path, body)), Err: '' } };
    } catch (err) {
      if (err instanceof PluginRequestError) return { status: 400, body: { Err: err.message } };
      if (err instanceof ProtocolException) {
        if (err.code !== ErrorCode.NOT_FOUND) this.logger.warn(`${path}: ${err.message}`);
        return { status: err.code === ErrorCode.NOT_FOUND ? 404 : 500, body: { Err: err.message } };
      }
      if (err instanceof UnknownEndpoint) return { status: 404, body: { Err: err.message } };
      this.logger.error(`${path}: ${(err as Error).message}`);
      return { status: 500, body: { Err: (err as Error).message || 'unexpected failure' } };
    }
  }

  private parse(raw: Buffer): Body {
    const text = raw.toString('utf8').trim();
    if (text === '' || text === 'null') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PluginRequestError('request body is not valid JSON');
    }
    if (!isPlainObject(parsed)) throw new PluginRequestError('request body must be a JSON object');
    return parsed;
  }

  private async route(path: string, body: Body): Promise<Record<string, unknown>> {
    switch (path) {
      case '/Plugin.Activate':
        return { Implements: ['VolumeDriver'] };
      case '/VolumeDriver.Capabilities':
        return { Capabilities: { Scope: 'local' } };
      case '/VolumeDriver.Create':
        await this.create(name(body), body.Opts);
        return {};
      case '/VolumeDriver.Remove':
        await this.volumes.removeForDocker(name(body));
        return {};
      case '/VolumeDriver.Mount':
        return { Mountpoint: await this.volumes.mount(name(body), mountId(body)) };
      case '/VolumeDriver.Unmount':
        this.volumes.unmount(name(body), mountId(body));
        return {};
      case '/VolumeDriver.Path': {
        const volume = name(body);
        this.volumes.record(volume);
        return { Mountpoint: this.volumes.mountpoint(volume) };
      }
      case '/VolumeDriver.Get':
        return { Volume: this.describe(name(body)) };
      case '/VolumeDriver.List':
        return { Volumes: this.volumes.names().map((n) => ({ Name: n, Mountpoint: this.volumes.mountpoint(n) })) };
      default:
        throw new UnknownEndpoint(`unknown endpoint ${path.slice(0, 100)}`);
    }
  }

  /** A volume prepared through the control API is accepted as is; otherwise the options must say what it is. */
  private async create(volume: string, opts: unknown): Promise<void> {
    const options = opts === undefined || opts === null ? {} : opts;
    if (!isPlainObject(options)) throw new PluginRequestError('Opts must be an object');
    const unknown = Object.keys(options).filter((k) => !(CREATE_OPTIONS as readonly string[]).includes(k));
    if (unknown.length) throw new PluginRequestError(`unknown option(s) ${unknown.join(', ')}; known: ${CREATE_OPTIONS.join(', ')}`);
    const given = options as Partial<Record<(typeof CREATE_OPTIONS)[number], unknown>>;
    if (this.volumes.has(volume)) {
      const record = this.volumes.record(volume);
      const differs = CREATE_OPTIONS.filter((k) => given[k] !== undefined && given[k] !== record[k]);
      if (differs.length) throw new PluginRequestError(`volume ${volume} exists with another ${differs.join(', ')}`);
      return;
    }
    const missing = CREATE_OPTIONS.filter((k) => typeof given[k] !== 'string');
    if (missing.length) {
      throw new PluginRequestError(
        `volume ${volume} was not prepared by Mosaic; create it through the control API or give -o ${missing.map((k) => `${k}=…`).join(' -o ')}`,
      );
    }
    const { instance, role, fingerprint, writer } = given as Record<(typeof CREATE_OPTIONS)[number], string>;
    const problems: string[] = [];
    if (!Patterns.uuid.test(instance)) problems.push('instance must be a lower-case UUID');
    if (!(VOLUME_ROLES as readonly string[]).includes(role)) problems.push(`role must be one of ${VOLUME_ROLES.join(', ')}`);
    if (!Patterns.fingerprint.test(fingerprint)) problems.push('fingerprint must be 40 lower-case hex digits');
    if (!Patterns.uuid.test(writer)) problems.push('writer must be a lower-case UUID');
    if (problems.length) throw new PluginRequestError(problems.join('; '));
    await this.volumes.create({ name: volume, instance, role: role as VolumeRole, fingerprint, writer });
  }

  private describe(volume: string): Record<string, unknown> {
    const record = this.volumes.record(volume);
    return {
      Name: record.name,
      Mountpoint: this.volumes.mountpoint(volume),
      Status: {
        instance: record.instance,
        role: record.role,
        fingerprint: record.fingerprint,
        writer: record.writer,
        isWriter: record.isWriter,
        lastReplicatedAt: record.lastReplicatedAt,
        replication: record.replication.state,
        ...(record.replication.error ? { replicationError: record.replication.error } : {}),
      },
    };
  }
}
