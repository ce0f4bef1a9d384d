import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import {
  AppCommandResultDto,
  AppCommandRunParamsDto,
  ErrorCode,
  PrepareResultDto,
  ProtocolException,
  ReplicateResultDto,
  SchedulerPrepareParamsDto,
  SchedulerStartParamsDto,
  SchedulerStopParamsDto,
  StartResultDto,
  StopResultDto,
} from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { InstanceLocks } from '../common/instance-locks';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { ComposeCliAdapter, ComposeError, ComposeProject } from '../docker/compose-cli.adapter';
import { ContainerExecService } from '../docker/container-exec.service';
import { InstanceKeys, KeystoreService } from '../keystore/keystore.service';
import { StorageService } from '../storage/storage.service';
import { appVolumeName, linkVolumeName } from '../storage/volume-names';
import { bindAppCommand, declaredCommand, parseAppCommands } from './app-commands';
import { AppEventsService } from './app-events.service';
import { AppFilesAdapter, AppMetadata, LayoutError, LayoutProblem, StagedApp } from './app-files.adapter';
import { AppInventoryService, projectName } from './app-inventory.service';
import { PolicyViolation, checkComposePolicy, checkTemplateInputs } from './compose-policy';
import { toolVariableProblems } from './variable-rules';

/** Progress reports of a start, for `command.progress`. */
export type Progress = (stage: string, percent?: number, message?: string) => void;

export const APP_OUTPUT_LIMIT = 64 * 1024;
const UP_TIMEOUT_MS = 15 * 60_000;
const STOP_TIMEOUT_MS = 5 * 60_000;

/**
 * What a start's check depends on: the app, its template and every variable Compose gets (the
 * links' domains and tokens among them). Kept in memory only, as a hash.
 */
function startDigest(params: SchedulerStartParamsDto, variables: Record<string, string>): string {
  const { appstore, name, version } = params.application;
  const sorted = Object.keys(variables)
    .sort()
    .map((key) => [key, variables[key]]);
  return createHash('sha256').update(JSON.stringify([appstore, name, version, params.compose, sorted])).digest('hex');
}

/** The lifecycle of an app instance: start, stop, app commands, and bringing apps back at boot. */
@Injectable()
export class AppLifecycleService {
  private readonly logger = new Logger('Apps');
  /**
   * Per instance, the start last checked (by a start, or ahead by a move's prepare, §2.7) and the
   * commands it declares: a start with exactly those params is not checked again. The check
   * depends only on the params (startDigest) and on what is fixed for this process's life (its
   * settings, the Compose it runs), so a restart of a stopped app skips `compose config`. Dropped
   * when the instance is removed or its stage discarded.
   */
  private readonly checked = new Map<string, { digest: string; commands: AppMetadata['commands'] }>();

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly files: AppFilesAdapter,
    private readonly compose: ComposeCliAdapter,
    private readonly execs: ContainerExecService,
    private readonly inventory: AppInventoryService,
    private readonly keystore: KeystoreService,
    private readonly storage: StorageService,
    private readonly events: AppEventsService,
    private readonly clock: Clock,
    private readonly locks: InstanceLocks,
  ) {}

  /**
   * §2.1: keys → volumes → compose up, after the template has passed `compose config` and the
   * policy in a folder of its own (checked first: a refusal leaves no keys or volumes behind, and a
   * known instance's files as they were).
   */
  async start(params: SchedulerStartParamsDto, progress: Progress): Promise<StartResultDto> {
    const { instance } = params;
    const current = await this.inventory.app(instance);
    if (current && current.state === 'running' && (await this.files.exists(instance))) {
      return { instance, state: 'running', containers: current.containers };
    }
    const variables = this.variablesOf(params);
    const metadata: AppMetadata = {
      instance,
      application: params.application,
      desired: 'stopped',
      commands: {},
      links: Object.fromEntries(Object.entries(params.links).map(([name, link]) => [name, { domain: link.domain }])),
      updatedAt: this.clock.now().toISOString(),
    };
    // A start with exactly the params last checked (by a start, or by a move's prepare) is not checked again.
    const digest = startDigest(params, variables);
    const last = this.checked.get(instance);
    const checkedCommands = last?.digest === digest ? last.commands : undefined;
    progress('policy', 10);
    // Rendered and checked aside: a refusal leaves a known instance exactly as it was.
    const check = () =>
      this.checkAside(params, variables, async (staged, commands) => {
        metadata.commands = commands;
        await this.files.commit(staged, metadata);
      }, checkedCommands);
    // Another start may make the keys, so only once the check passed; a failover's are only fetched.
    let keys: InstanceKeys;
    if (params.failover) keys = await this.keysBeside(instance, check, () => progress('keys', 30));
    else {
      await check();
      progress('keys', 30);
      keys = await this.keystore.keysFor(instance, { failover: false });
    }
    this.checked.set(instance, { digest, commands: metadata.commands });
    const project = this.project(instance, variables);

    progress(params.failover ? 'restore' : 'volumes', 40);
    await this.storage.prepareVolumes(instance, keys, {
      failover: params.failover,
      progress: (percent) => progress(params.failover ? 'restore' : 'volumes', 40 + Math.round(percent * 0.3)),
    });
    // A failover takes the replica over; any other start runs only on the replica's writer (§2.1).
    if (!params.failover) await this.storage.assertWriter(instance);

    progress('starting', 75);
    try {
      await this.up(instance, project);
    } catch (err) {
      throw this.dockerError(`Compose could not start ${instance}`, err);
    } finally {
      this.events.changed(instance, true);
    }
    metadata.desired = 'running';
    metadata.updatedAt = this.clock.now().toISOString();
    await this.files.writeMetadata(metadata);
    const app = await this.inventory.app(instance);
    this.logger.log(`started ${params.application.name} ${instance}`);
    return { instance, state: 'running', containers: app?.containers ?? [] };
  }

  /**
   * §2.7: stages a move to this device while the app still runs elsewhere: the keys fetched from
   * Hive and opened now (the start that follows finds them in memory), both replicas restored
   * ahead by the plugin without taking the writer role. With `discard`, drops such a stage.
   */
  async prepare(params: SchedulerPrepareParamsDto, progress: Progress): Promise<PrepareResultDto> {
    const { instance } = params;
    if (params.discard) {
      if (params.start) throw new ProtocolException(ErrorCode.INVALID_PARAMS, 'start cannot go with discard.', [{ field: 'start', problems: ['must be absent with discard'] }]);
      this.checked.delete(instance);
      const dropped = await this.storage.discardStages(instance);
      this.logger.log(`dropped the stage of ${instance} (${dropped.length} volume(s))`);
      return { instance, staged: [] };
    }
    this.checked.delete(instance);
    const start = params.start;
    if (start && (start.instance !== instance || !start.failover)) {
      throw new ProtocolException(ErrorCode.INVALID_PARAMS, 'start must be the failover start of the same instance.', [
        { field: 'start', problems: ['must have the same instance and failover: true'] },
      ]);
    }
    // The start is checked before anything is restored (a refused app is refused before its move
    // stops it anywhere), while the keys are fetched and opened.
    const keys = await this.keysBeside(
      instance,
      async () => {
        if (!start) return;
        const variables = this.variablesOf(start);
        const commands = await this.checkAside(start, variables, async () => undefined);
        this.checked.set(instance, { digest: startDigest(start, variables), commands });
      },
      () => progress('keys', 10),
    );
    progress('staging', 20);
    const staged = await this.storage.stageVolumes(instance, keys, (percent) => progress('staging', 20 + Math.round(percent * 0.75)));
    this.logger.log(`staged ${instance}: ${staged.map((v) => `${v.name} ${v.snapshot ? v.snapshot.slice(0, 8) : '(no data yet)'}`).join(', ')}`);
    return { instance, staged };
  }

  /**
   * `compose stop` (or `down` without volumes when removing), then the volumes' final state. A stop
   * with a `reason` (the app is no longer this device's, §2.4) is recorded first: should the device
   * restart meanwhile, its boot does not bring the copy back.
   */
  async stop(params: SchedulerStopParamsDto): Promise<StopResultDto> {
    const { instance } = params;
    let metadata = await this.known(instance);
    if (params.reason) {
      metadata = { ...metadata, desired: 'stopped', stoppedReason: params.reason, updatedAt: this.clock.now().toISOString() };
      await this.files.writeMetadata(metadata);
      this.logger.warn(`stopping ${instance}: the Hive says it was ${params.reason === 'moved' ? 'moved to another device' : 'removed'}`);
    }
    const project = this.project(instance, await this.files.readVariables(instance));
    try {
      if (params.remove) await this.compose.down(project, STOP_TIMEOUT_MS);
      else await this.compose.stop(project, STOP_TIMEOUT_MS);
    } catch (err) {
      throw this.dockerError(`Compose could not stop ${instance}`, err);
    } finally {
      this.events.changed(instance, true);
    }
    const volumes = await this.storage.afterStop(instance, params.replicate !== false);
    if (params.remove) {
      await this.files.remove(instance);
      this.checked.delete(instance);
      this.keystore.forget(instance);
      this.logger.log(`removed ${instance} (its volumes are kept)`);
    } else {
      await this.files.writeMetadata({ ...metadata, desired: 'stopped', updatedAt: this.clock.now().toISOString() });
      this.logger.log(`stopped ${instance}`);
    }
    return { instance, state: 'stopped', volumes };
  }

  /**
   * §2.8: a snapshot of both volumes now, whether the app runs or not (a move's first copy, made
   * while the app still serves, so that the stop has only the last changes left to replicate).
   */
  async replicate(instance: string): Promise<ReplicateResultDto> {
    await this.known(instance);
    const volumes = await this.storage.replicateNow(instance);
    this.logger.log(`replicated ${instance} on request (${volumes.map((v) => v.name.slice(-4)).join(', ')})`);
    return { instance, volumes };
  }

  /** §2.3: a declared command, its arguments bound as whole argv elements, run without a shell. */
  async runCommand(params: AppCommandRunParamsDto): Promise<AppCommandResultDto> {
    const metadata = await this.known(params.instance);
    const spec = declaredCommand(metadata.commands, params.command);
    if (!spec) {
      const names = Object.keys(metadata.commands);
      throw new ProtocolException(ErrorCode.UNKNOWN_APP_COMMAND, `The app declares no command "${params.command}"${names.length ? ` (it has: ${names.join(', ')})` : ''}.`);
    }
    const bound = bindAppCommand(spec, params.args ?? {});
    if ('problems' in bound) throw new ProtocolException(ErrorCode.INVALID_PARAMS, `The arguments of "${params.command}" are invalid.`, bound.problems);
    const app = await this.inventory.app(params.instance);
    const container = app?.containers.find((c) => c.service === spec.service && c.state === 'running');
    if (!container) throw new ProtocolException(ErrorCode.NOT_RUNNING, `Service ${spec.service} of ${params.instance} is not running.`);
    try {
      const outcome = await this.execs.run(container.containerId, bound.argv, spec.timeoutSeconds * 1000, APP_OUTPUT_LIMIT);
      const ending = outcome.reaped && !outcome.reaped.killed ? `; it could not be killed and may still run (${outcome.reaped.reason})` : '; killed';
      const stderr = outcome.timedOut ? `${outcome.stderr}\n[mosaic] timed out after ${spec.timeoutSeconds} s${ending}` : outcome.stderr;
      return { exitCode: outcome.exitCode, stdout: outcome.stdout, stderr, truncated: outcome.truncated };
    } catch (err) {
      throw this.dockerError(`Cannot run "${params.command}"`, err);
    }
  }

  /**
   * Boot: every app that should run and does not is brought up again. Each instance is held as a
   * command holds it: a command for it meanwhile is refused BUSY; one a command holds is left be.
   */
  async reconcile(): Promise<string[]> {
    const restarted: string[] = [];
    for (const instance of await this.files.instances()) {
      const release = this.locks.tryAcquire(instance);
      if (!release) continue;
      try {
        const metadata = await this.files.readMetadata(instance);
        if (metadata?.desired !== 'running') continue;
        const app = await this.inventory.app(instance);
        if (app?.state === 'running') continue;
        try {
          const project = this.project(instance, await this.files.readVariables(instance));
          // Checked again: the device's settings (ALLOWED_CAPS, exemptions) may have changed since.
          await this.checkProject(project, instance, metadata.application.name, await this.files.readCompose(instance));
          // The app may have moved while this device was away: another writer means the copy stays down.
          await this.storage.assertWriter(instance);
          await this.up(instance, project);
          restarted.push(instance);
          this.logger.log(`brought ${metadata.application.name} ${instance} back up`);
        } finally {
          this.events.changed(instance, true);
        }
      } catch (err) {
        this.logger.error(`cannot bring ${instance} back up: ${(err as Error).message}`);
      } finally {
        release();
      }
    }
    return restarted;
  }

  /**
   * A failover's keys, fetched from Hive and opened (~0.5 s of Argon2) while `check` runs: a failover
   * never creates keys, so nothing is made before the check passes. A refusal is thrown once the
   * keys settled, and keys this call opened are dropped; `checked` is told when the check passed.
   */
  private async keysBeside(instance: string, check: () => Promise<unknown>, checked: () => void): Promise<InstanceKeys> {
    const held = this.keystore.cached(instance) !== undefined;
    const keys = this.keystore.keysFor(instance, { failover: true });
    keys.catch(() => undefined); // awaited below, or settled and dropped on a refusal
    try {
      await check();
    } catch (err) {
      const opened = await keys.catch(() => undefined);
      // Only what this call opened (another sync may have cached the instance's keys meanwhile).
      if (!held && opened && this.keystore.cached(instance) === opened) this.keystore.forget(instance);
      throw err;
    }
    checked();
    return keys;
  }

  /**
   * The start's template, rendered with its variables into a folder aside, through `compose config`
   * and the policy (unless `checkedCommands` says a prepare did that with the same params); `use`
   * gets the folder and the app's declared commands before the folder is removed. A refusal throws.
   */
  private async checkAside(
    params: SchedulerStartParamsDto,
    variables: Record<string, string>,
    use: (staged: StagedApp, commands: AppMetadata['commands']) => Promise<void>,
    checkedCommands?: AppMetadata['commands'],
  ): Promise<AppMetadata['commands']> {
    const badVariables = toolVariableProblems(params.variables);
    if (badVariables.length) throw new ProtocolException(ErrorCode.INVALID_PARAMS, 'Some variables may not be set by an app.', badVariables);
    this.refuseIf(checkTemplateInputs(this.parseTemplate(params.compose)));
    const staged = await this.files.stage(params.instance, { compose: params.compose, variables });
    try {
      const checked = { ...this.project(params.instance, variables), directory: staged.dir, file: staged.composeFile };
      const commands = checkedCommands ?? (await this.checkProject(checked, params.instance, params.application.name, params.compose));
      await use(staged, commands);
      return commands;
    } catch (err) {
      throw err instanceof LayoutError ? this.layoutRefusal(err.problems) : err;
    } finally {
      await this.files.discard(staged);
    }
  }

  /** `compose config` and the policy; returns the app's declared commands or throws the refusal. */
  private async checkProject(project: ComposeProject, instance: string, application: string, template: string): Promise<AppMetadata['commands']> {
    const normalised = await this.normalise(project);
    const exempt = this.exemption(application, template);
    const violations = exempt
      ? []
      : checkComposePolicy(normalised, { allowedCaps: this.config.allowedCaps, deviceVolumes: [appVolumeName(instance), linkVolumeName(instance)] });
    const declared = parseAppCommands(normalised['x-mosaic'], Object.keys((normalised.services ?? {}) as object));
    this.refuseIf([...violations, ...declared.violations]);
    return declared.commands;
  }

  /** ALLOW_PRIVILEGED_APPS: the operator approved this app's name with exactly this template. */
  private exemption(application: string, template: string): boolean {
    const digest = createHash('sha256').update(template).digest('hex');
    const exempt = this.config.allowPrivilegedApps.some((e) => e.name === application && e.sha256 === digest);
    if (exempt) this.logger.warn(`${application} (template sha256:${digest}) is exempt from the policy (ALLOW_PRIVILEGED_APPS)`);
    return exempt;
  }

  /** Compose is handed the instance's folder only as the device left it (checked with lstat right before). */
  private async up(instance: string, project: ComposeProject): Promise<void> {
    const problems = await this.files.layoutProblems(instance);
    if (problems.length) throw this.layoutRefusal(problems);
    await this.compose.up(project, UP_TIMEOUT_MS);
  }

  private layoutRefusal(problems: LayoutProblem[]): ProtocolException {
    return new ProtocolException(
      ErrorCode.POLICY_VIOLATION,
      `The instance’s folder holds what the device did not put there: ${problems.map((p) => p.message).join('; ')}.`,
      problems.map((p) => ({ rule: 'host_path', path: p.path, message: p.message })),
    );
  }

  private async known(instance: string): Promise<AppMetadata> {
    const metadata = await this.files.readMetadata(instance);
    if (!metadata) throw new ProtocolException(ErrorCode.NOT_FOUND, `This device does not know instance ${instance}.`);
    return metadata;
  }

  private parseTemplate(compose: string): Record<string, unknown> {
    let doc: unknown;
    try {
      doc = parseYaml(compose, { maxAliasCount: 100, uniqueKeys: true });
    } catch (err) {
      throw new ProtocolException(ErrorCode.COMPOSE_INVALID, `The compose template is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ProtocolException(ErrorCode.COMPOSE_INVALID, 'The compose template must be a YAML mapping with services.');
    }
    return doc as Record<string, unknown>;
  }

  private async normalise(project: ComposeProject): Promise<Record<string, unknown>> {
    try {
      return await this.compose.config(project);
    } catch (err) {
      const detail = err instanceof ComposeError ? err.stderr.trim().split('\n').slice(-3).join(' ') : (err as Error).message;
      throw new ProtocolException(ErrorCode.COMPOSE_INVALID, `Compose refused the template: ${detail}`);
    }
  }

  private refuseIf(violations: PolicyViolation[]): void {
    if (violations.length) {
      throw new ProtocolException(ErrorCode.POLICY_VIOLATION, `The app asks for ${violations.length} thing(s) the device does not allow.`, violations);
    }
  }

  private variablesOf(params: SchedulerStartParamsDto): Record<string, string> {
    const own: Record<string, string> = {
      APP_INSTANCE: params.instance,
      APP_VOLUME_NAME: appVolumeName(params.instance),
      LINK_VOLUME_NAME: linkVolumeName(params.instance),
    };
    for (const [name, link] of Object.entries(params.links)) {
      own[`LINK_DOMAIN_${name.toUpperCase()}`] = link.domain;
      own[`LINK_TOKEN_${name.toUpperCase()}`] = link.token;
    }
    // The device's own variables always win (§2.1).
    return { ...params.variables, ...own };
  }

  private project(instance: string, variables: Record<string, string>): ComposeProject {
    return { name: projectName(instance), directory: this.files.dir(instance), file: this.files.composeFile(instance), variables };
  }

  private dockerError(what: string, err: unknown): ProtocolException {
    if (err instanceof ProtocolException) return err;
    const detail = err instanceof ComposeError ? err.message : (err as Error).message;
    return new ProtocolException(ErrorCode.DOCKER_ERROR, `${what}: ${detail}`);
  }
}
