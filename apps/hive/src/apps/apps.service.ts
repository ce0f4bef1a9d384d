import { Injectable, Logger } from '@nestjs/common';
import {
  AppState,
  CommandType,
  ContainerDto,
  ErrorCode,
  FieldProblem,
  ReplicationStateDto,
  SchedulerStartParamsDto,
  describeProblems,
  validatePayload,
} from '@mosaic/protocol';
import { randomBytes, randomUUID } from 'node:crypto';
import { CommandView, CommandsService, SendOutcome } from '../commands/commands.service';
import { ChangeFeed } from '../changes/change-feed';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { DevicesService } from '../devices/devices.service';
import { LatestReports, ReportsService } from '../reports/reports.service';
import { appCommandArgProblems, declaredCommand, parseAppCommands } from './app-commands';
import { AppRecord, AppRepository, DesiredState, StoredApplication } from './app.repository';
import { publicVariables, resolveAppVariables } from './app-variables';
import { CATALOG_APPSTORE, CatalogService } from './catalog.service';
import { DEFAULT_LINK, parseTemplate } from './catalog-template';

/** Where apps live when the caller names no domain: `<app>-<first 8 of instance>.mosaic.test`. */
export const DEFAULT_APP_DOMAIN = 'mosaic.test';
/** Bytes of randomness in a link token (base64url, 43 characters). */
const LINK_TOKEN_BYTES = 32;

export interface AppVolumeView {
  name: string;
  role: string;
  fingerprint: string;
  publicKey: string;
  lastReplicatedAt: string | null;
  replication: ReplicationStateDto;
  sizeBytes: number;
}

/** The REST shape of an app: never a link token or a secret variable. */
export interface AppView {
  instance: string;
  deviceId: string | null;
  application: StoredApplication;
  desired: DesiredState;
  /** From the device's latest report.apps; `unknown` when that report does not mention the app (or none came yet). */
  state: AppState | 'unknown';
  containers: ContainerDto[];
  /** From the device's latest report.volumes. */
  volumes: AppVolumeView[];
  links: Record<string, { domain: string }>;
  variables: Record<string, string>;
  /** The `at` of the report.apps the state comes from. */
  reportedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CommandOptions {
  wait?: boolean;
  timeoutSeconds?: number;
}

export interface InstallRequest extends CommandOptions {
  app: string;
  instance?: string;
  domain?: string;
  variables?: Record<string, string>;
}

export interface StopRequest extends CommandOptions {
  remove?: boolean;
  replicate?: boolean;
}

export interface AppCommandRequest extends CommandOptions {
  command: string;
  args?: Record<string, string>;
}

export interface AppOutcome {
  instance: string;
  /** null once a stop with remove took the app away. */
  app: AppView | null;
  command: CommandView;
  /** False while the device still works on the command. */
  settled: boolean;
}

export type AppCommandOutcome = Omit<AppOutcome, 'app'>;

/** The REST body field a SchedulerAction.start param comes from, for 400s that name the caller's field. */
const BODY_FIELD: Record<string, string> = { links: 'domain', instance: 'instance', variables: 'variables' };

export function defaultDomain(app: string, instance: string): string {
  // An RFC 1123 label has at most 63 characters: 54 + "-" + 8.
  return `${app.slice(0, 54)}-${instance.slice(0, 8)}.${DEFAULT_APP_DOMAIN}`;
}

/**
 * Catalog apps on devices: install (SchedulerAction.start), start again, stop or remove
 * (SchedulerAction.stop) and app commands (AppCommand.run). Every start a device gets is built
 * from the stored record, so the same start can later go to another device.
 */
@Injectable()
export class AppsService {
  private readonly logger = new Logger('Apps');

  constructor(
    private readonly catalog: CatalogService,
    private readonly apps: AppRepository,
    private readonly commands: CommandsService,
    private readonly devices: DevicesService,
    private readonly reports: ReportsService,
    private readonly changes: ChangeFeed = new ChangeFeed(),
  ) {}

  async install(deviceId: string, request: InstallRequest): Promise<AppOutcome> {
    const app = this.catalog.require(request.app);
    await this.devices.require(deviceId);
    const variables = resolveAppVariables(app.manifest.variables, request.variables ?? {});
    if (!variables.ok) throw invalid(variables.details);
    const instance = request.instance ?? randomUUID();
    if (await this.apps.find(instance)) throw new HiveError(HiveErrorCode.APP_EXISTS, `An app with instance ${instance} is installed already.`);

    const now = new Date().toISOString();
    const record: AppRecord = {
      instance,
      deviceId,
      application: { appstore: CATALOG_APPSTORE, name: app.manifest.name, version: app.manifest.version },
      compose: app.compose,
      variables: variables.value,
      secretVariables: Object.entries(app.manifest.variables)
        .filter(([, spec]) => spec.secret)
        .map(([name]) => name),
      links: {
        [DEFAULT_LINK]: {
          domain: request.domain ?? defaultDomain(app.manifest.name, instance),
          token: randomBytes(LINK_TOKEN_BYTES).toString('base64url'),
        },
      },
      desired: 'running',
      createdAt: now,
      updatedAt: now,
    };
    const params = startParams(record, false);
    const checked = validatePayload(SchedulerStartParamsDto, params);
    if (!checked.ok) throw invalid(checked.details.map((d) => ({ ...d, field: bodyField(d.field) })));
    if (!(await this.apps.insert(record))) throw new HiveError(HiveErrorCode.APP_EXISTS, `An app with instance ${instance} is installed already.`);

    this.logger.log(`installing ${app.manifest.name} ${instance} on device ${deviceId}`);
    let outcome: SendOutcome;
    try {
      outcome = await this.commands.send(deviceId, CommandType.SchedulerStart, params, sendOptions(request));
    } catch (err) {
      // The start never reached the device (offline, revoked): nothing to remember.
      await this.apps.delete(instance);
      throw err;
    }
    this.changes.publish('apps', instance);
    return { instance, app: await this.viewOf(instance), ...outcome };
  }

  async list(deviceId?: string): Promise<AppView[]> {
    if (deviceId !== undefined) await this.devices.require(deviceId);
    const reports = new Map<string, Promise<LatestReports>>();
    return Promise.all((await this.apps.list(deviceId)).map((record) => this.view(record, reports)));
  }

  async get(instance: string): Promise<AppView> {
    return this.view(await this.require(instance), new Map());
  }

  /** Sends the stored start again (same instance, same link token) to the app's device. */
  async start(instance: string, options: CommandOptions): Promise<AppOutcome> {
    const record = await this.require(instance);
    const outcome = await this.commands.send(
      this.deviceOf(record),
      CommandType.SchedulerStart,
      startParams(record, false),
      sendOptions(options),
    );
    if (outcome.command.ack?.accepted) await this.apps.setDesired(instance, 'running', new Date().toISOString());
    this.changes.publish('apps', instance);
    return { instance, app: await this.viewOf(instance), ...outcome };
  }

  /**
   * SchedulerAction.stop. With `remove`, the record goes once the device removed the app, or
   * answers that it does not know it (NOT_FOUND): asking again after a failure converges.
   */
  async stop(instance: string, request: StopRequest): Promise<AppOutcome> {
    const record = await this.require(instance);
    const params = {
      instance,
      ...(request.replicate !== undefined && { replicate: request.replicate }),
      ...(request.remove !== undefined && { remove: request.remove }),
    };
    const outcome = await this.commands.send(this.deviceOf(record), CommandType.SchedulerStop, params, sendOptions(request));
    const { command } = outcome;
    if (command.ack?.accepted) await this.apps.setDesired(instance, 'stopped', new Date().toISOString());
    const gone = command.status === 'succeeded' || command.error?.code === ErrorCode.NOT_FOUND;
    this.changes.publish('apps', instance);
    if (request.remove && gone) {
      await this.apps.delete(instance);
      this.logger.log(`removed app ${instance} from device ${record.deviceId}`);
      return { instance, app: null, ...outcome };
    }
    return { instance, app: await this.viewOf(instance), ...outcome };
  }

  /** AppCommand.run, after the checks the device would make against the app's own declaration. */
  async runCommand(instance: string, request: AppCommandRequest): Promise<AppCommandOutcome> {
    const record = await this.require(instance);
    const template = parseTemplate(record.compose);
    if (typeof template !== 'string') {
      const services = Object.keys((template.services ?? {}) as object);
      const { commands } = parseAppCommands(template['x-mosaic'], services);
      const spec = declaredCommand(commands, request.command);
      if (!spec) {
        const names = Object.keys(commands);
        throw invalid([
          { field: 'command', problems: [`is not a command of ${record.application.name} (it has: ${names.join(', ') || 'none'})`] },
        ]);
      }
      const problems = appCommandArgProblems(spec, request.args ?? {});
      if (problems.length) throw invalid(problems);
    }
    const params = { instance, command: request.command, ...(request.args !== undefined && { args: request.args }) };
    const outcome = await this.commands.send(this.deviceOf(record), CommandType.AppCommandRun, params, sendOptions(request));
    return { instance, ...outcome };
  }

  /** Throws NOT_FOUND for an unknown instance. */
  async require(instance: string): Promise<AppRecord> {
    const record = await this.apps.find(instance);
    if (!record) throw new HiveError(HiveErrorCode.NOT_FOUND, `No app has the instance id ${instance}.`);
    return record;
  }

  private deviceOf(record: AppRecord): string {
    if (record.deviceId === null) {
      throw new HiveError(HiveErrorCode.APP_UNASSIGNED, `App ${record.instance} has no device: its device was revoked.`);
    }
    return record.deviceId;
  }

  private async viewOf(instance: string): Promise<AppView | null> {
    const record = await this.apps.find(instance);
    return record ? this.view(record, new Map()) : null;
  }

  /** `reports` caches each device's latest reports for the length of one listing. */
  private async view(record: AppRecord, reports: Map<string, Promise<LatestReports>>): Promise<AppView> {
    let latest: LatestReports | undefined;
    if (record.deviceId !== null) {
      const pending = reports.get(record.deviceId) ?? this.reports.latest(record.deviceId);
      reports.set(record.deviceId, pending);
      latest = await pending;
    }
    const reported = latest?.apps?.apps.find((app) => app.instance === record.instance);
    const volumes = (latest?.volumes?.volumes ?? [])
      .filter((volume) => volume.instance === record.instance)
      .map(({ name, role, fingerprint, publicKey, lastReplicatedAt, replication, sizeBytes }) => ({
        name,
        role,
        fingerprint,
        publicKey,
        lastReplicatedAt,
        replication,
        sizeBytes,
      }));
    const catalogSecrets = Object.entries(this.catalog.find(record.application.name)?.manifest.variables ?? {})
      .filter(([, spec]) => spec.secret)
      .map(([name]) => name);
    return {
      instance: record.instance,
      deviceId: record.deviceId,
      application: record.application,
      desired: record.desired,
      state: reported?.state ?? 'unknown',
      containers: reported?.containers ?? [],
      volumes,
      links: Object.fromEntries(Object.entries(record.links).map(([name, link]) => [name, { domain: link.domain }])),
      variables: publicVariables(record.variables, [...record.secretVariables, ...catalogSecrets]),
      reportedAt: reported ? (latest?.apps?.at ?? null) : null,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }
}

/** docs/protocol.md §2.1, from the stored record; `failover` is true only when the app moves. */
export function startParams(record: AppRecord, failover: boolean) {
  return {
    instance: record.instance,
    application: record.application,
    compose: record.compose,
    links: record.links,
    variables: record.variables,
    failover,
  };
}

function sendOptions(options: CommandOptions): { wait: boolean; timeoutMs?: number } {
  return {
    wait: options.wait ?? true,
    ...(options.timeoutSeconds !== undefined && { timeoutMs: options.timeoutSeconds * 1000 }),
  };
}

function bodyField(paramField: string): string {
  const top = paramField.split(/[.[]/)[0];
  return BODY_FIELD[top] ?? paramField;
}

function invalid(details: FieldProblem[]): HiveError {
  return new HiveError(HiveErrorCode.INVALID_PARAMS, `The request is invalid: ${describeProblems(details)}`, details);
}
