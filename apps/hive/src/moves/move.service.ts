import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CommandType, ErrorCode, ProtocolError } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { AppRecord, AppRepository } from '../apps/app.repository';
import { startParams } from '../apps/apps.service';
import type { CommandStatus } from '../commands/command.repository';
import { CommandView, CommandsService, SendOutcome } from '../commands/commands.service';
import { ChangeFeed } from '../changes/change-feed';
import { Clock } from '../common/clock';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { DevicesService } from '../devices/devices.service';
import { HiveMetrics } from '../metrics/hive-metrics';
import { KeysService } from '../keys/keys.service';
import { LeaseKeeper } from '../leases/lease-keeper';
import { ReportsService } from '../reports/reports.service';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { lossWindow } from './loss-window';
import { stageHoldsCopy } from './stage-holds';
import { FINAL_MOVE_STATES, LossWindow, MoveRecord, MoveRepository, UnfinishedMoveExists } from './move.repository';

/** How often unfinished moves are looked at again without an event: re-sends, and devices gone too long. */
export const MOVE_SWEEP_INTERVAL_MS = 5_000;
/**
 * A device answering EXPIRED to a command issued longer ago than this never saw it (it was
 * re-sent after a restart): a fresh command can work. EXPIRED for a younger one means the
 * clocks disagree, and a fresh command would be refused the same way.
 */
export const REISSUE_EXPIRED_AFTER_MS = 60_000;
/** Refusals of SchedulerAction.prepare after which a move goes on unstaged instead of failing. */
const UNSTAGED_ON_REFUSAL: ReadonlySet<string> = new Set([ErrorCode.UNKNOWN_COMMAND, ErrorCode.EXPIRED, ErrorCode.BUSY]);
/** A safety net: one run of a move never takes more steps than the machine has. */
const MAX_STEPS_PER_RUN = 16;
/** The lease a process holds while it runs a move (docs/architecture.md "Work shared between Hive processes"). */
export const moveLease = (id: string): string => `move:${id}`;
const MOVE_LEASE_PREFIX = 'move:';

/** Thrown inside a step's transaction when the move changed under it: the command it prepared is rolled back with it. */
class MoveChanged extends Error {}

export interface MoveRequest {
  to: string;
  force?: boolean;
  /** Stage the move on the target first (default true, §2.7); false stops the source first. */
  stage?: boolean;
  wait?: boolean;
  timeoutSeconds?: number;
}

/** The REST shape of a move: the record, with the devices named `from` and `to`. */
export type MoveView = Omit<MoveRecord, 'fromDeviceId' | 'toDeviceId'> & { from: string | null; to: string };

export interface MoveOutcome {
  move: MoveView;
  /** True once the move ended (`running`, `failed` or `cancelled`). */
  settled: boolean;
}

export function toMoveView(move: MoveRecord): MoveView {
  return {
    id: move.id,
    instance: move.instance,
    from: move.fromDeviceId,
    to: move.toDeviceId,
    force: move.force,
    state: move.state,
    error: move.error,
    stopError: move.stopError,
    lossWindow: move.lossWindow,
    precopyCommandId: move.precopyCommandId,
    prepareCommandId: move.prepareCommandId,
    stageUpdateCommandId: move.stageUpdateCommandId,
    stopCommandId: move.stopCommandId,
    startCommandId: move.startCommandId,
    createdAt: move.createdAt,
    updatedAt: move.updatedAt,
    finishedAt: move.finishedAt,
    resolvedOn: move.resolvedOn,
    resolution: move.resolution,
    stoppedAt: move.stoppedAt,
    downtimeMs: move.downtimeMs,
    totalMs: move.totalMs,
  };
}

/** The fields a step may change. */
type MoveChanges = Partial<
  Pick<
    MoveRecord,
    'state' | 'error' | 'stopError' | 'lossWindow' | 'precopyCommandId' | 'prepareCommandId' | 'stageUpdateCommandId' | 'stopCommandId' | 'startCommandId' | 'resolvedOn' | 'resolution' | 'stoppedAt'
  >
>;

/**
 * A failover start that failed with one of these had claimed the replica already (they come after
 * the volumes were prepared, or from the restore that follows the claim): its device holds the data.
 */
const AFTER_CLAIM: readonly string[] = [ErrorCode.RESTORE_FAILED, ErrorCode.DOCKER_ERROR];
const claimedBefore = (code: string | undefined): boolean => code !== undefined && AFTER_CLAIM.includes(code);

const errorOf = (code: HiveErrorCode, message: string): ProtocolError => new HiveError(code, message).toJSON();

/**
 * Moves an app from its device A to device B (docs/architecture.md, "Move / failover") as a persisted
 * state machine:
 *
 *   staging ──B staged (or cannot: an older device)──▶ stopping ──A's stop succeeded──▶ replicated ──start issued on B──▶ restoring ──B's start succeeded──▶ running
 *      │                                  │                                │
 *      │ A's stop failed, was refused     │ B revoked, or away             │ B's start failed or was refused, B revoked,
 *      │ or unanswered, or A went away:   │ longer than the grace          │ or B away longer than the grace before it
 *      │ force → replicated + loss window ▼                                ▼ accepted the start
 *      └───────── otherwise ──────────▶ failed ◀─────────────────────────── failed
 *
 * `staging` (when A is connected): while A still runs the app, B restores the replicas ahead
 * (SchedulerAction.prepare, docs/protocol.md §2.7) and, side by side, A snapshots them once more
 * (its first copy, SchedulerAction.replicate, §2.8); once both ended, B brings its stage up to date
 * with that copy (a second prepare, only what changed) unless it staged the copy itself. So A's stop
 * and B's failover start only have the last moments' changes left. A device without `replicate` or
 * `prepare` (UNKNOWN_COMMAND) goes without that step; a stage that fails, or a B that stays away,
 * fails the move before anything was stopped.
 *
 * Each step reads the move and its commands from the database, so the machine goes on from
 * wherever a restart left it. It is driven by events (a command settling, a device proving its
 * passphrase) and by a sweep every few seconds for what no event announces (a device that
 * stays away). The runs of one move never overlap.
 *
 * With several Hive processes on one database, a move runs on the process that holds its lease
 * (`move:<id>`, leases/): the one that began it, renewing it while the move is unfinished. The
 * others' sweeps, resumes and events leave it alone until the lease expires (its process died),
 * then one of them takes it and goes on from the stored state, as after a restart. A cancel sent
 * to another process asks the holder to hand the lease over at its next step boundary and runs
 * there. Each state change is also written only over the state it was read in, so a process that
 * lost its lease unawares cannot undo another's step.
 */
@Injectable()
export class MoveService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Moves');
  /** The latest run of each move; a new run starts only when the previous one ended. */
  private readonly runs = new Map<string, Promise<void>>();
  /** Moves whose next run is queued already: another kick adds nothing. */
  private readonly queued = new Set<string>();
  /** When this process last emitted each move command, so an unanswered one is re-sent at most once per ack timeout. */
  private readonly lastEmitted = new Map<string, number>();
  /** Commands whose acknowledgement this process is awaiting. */
  private readonly emitting = new Set<string>();
  /** When this process first found a device it waits for to be offline. */
  private readonly offlineSince = new Map<string, number>();
  private readonly finishWaiters = new Map<string, Set<() => void>>();
  /** Work started by a listener or an ended move (the lookups that kick runs, a stage dropped), for `idle`. */
  private readonly background = new Set<Promise<void>>();
  /** Moves whose lease another process asked for: their runs stop at the next step boundary, then the lease is handed over. */
  private readonly handingOver = new Set<string>();
  private readonly stopListening: Array<() => void>;
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly moves: MoveRepository,
    private readonly apps: AppRepository,
    private readonly commands: CommandsService,
    private readonly devices: DevicesService,
    private readonly sessions: DeviceSessionRegistry,
    private readonly reports: ReportsService,
    private readonly keys: KeysService,
    private readonly clock: Clock,
    private readonly leases: LeaseKeeper,
    private readonly changes: ChangeFeed = new ChangeFeed(),
    private readonly metrics: HiveMetrics = new HiveMetrics(),
  ) {
    this.stopListening = [
      leases.onHandoffWanted((name) => this.handOver(name)),
      commands.onSettled(({ commandId, status }) => this.onCommandSettled(commandId, status)),
      // Deferred: the listener runs before the device's proof is acknowledged, and nothing may reach it before that.
      sessions.onAuthenticated((deviceId) => setImmediate(() => this.onDeviceAuthenticated(deviceId))),
      // A move another process ran ends there: its change notice (cluster/change-relay.ts) wakes the callers waiting here.
      changes.subscribe((change) => {
        const id = change.id;
        // Read once the change is committed (a local one comes from inside the transaction that makes it).
        if (change.topic === 'moves' && id !== undefined && this.finishWaiters.has(id)) this.moves.afterTransaction(() => this.inBackground(this.wakeIfFinished(id)));
      }),
    ];
  }

  private async wakeIfFinished(id: string): Promise<void> {
    const move = await this.moves.find(id).catch(() => undefined);
    if (move?.finishedAt != null) for (const wake of [...(this.finishWaiters.get(id) ?? [])]) wake();
  }

  /** Goes on with the moves a previous process left unfinished (whose lease is free), and starts the sweep. */
  onApplicationBootstrap(): void {
    void this.resume().catch((err: unknown) => this.passFailed('resuming unfinished moves', err));
    this.sweepTimer = setInterval(() => void this.sweep().catch((err: unknown) => this.passFailed('a sweep of unfinished moves', err)), MOVE_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /**
   * A timer's pass that failed (the database unreachable, say): logged, and the next sweep tries
   * again; nothing is thrown where no caller could catch it. After shutdown began, a pass cut
   * off by the closing database is expected and not logged.
   */
  private passFailed(what: string, err: unknown): void {
    if (this.closed) return;
    this.logger.warn(`${what} failed (the next sweep, within ${MOVE_SWEEP_INTERVAL_MS / 1000} s, tries again): ${(err as Error)?.message ?? String(err)}`);
  }

  /** Stops, and gives up the leases of its moves so another process goes on with them at once. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const stop of this.stopListening) stop();
    // Waiting REST calls answer with the move as it stands (202) instead of holding up shutdown.
    for (const waiters of [...this.finishWaiters.values()]) for (const wake of [...waiters]) wake();
    await this.leases.releaseAll(MOVE_LEASE_PREFIX);
  }

  /**
   * Starts a move and, with `wait` (the default), waits up to `timeoutSeconds` for it to end.
   * Everything that can be checked before anything stops is checked here, and refused with an
   * error: unknown app or device, same device, a move under way, an offline device, no keys.
   */
  async move(instance: string, request: MoveRequest): Promise<MoveOutcome> {
    const move = await this.begin(instance, request);
    void this.kick(move.id);
    if (request.wait ?? true) await this.whenFinished(move.id, (request.timeoutSeconds ?? this.config.commandTimeoutS) * 1000);
    const current = await this.require(move.id);
    return { move: toMoveView(current), settled: current.finishedAt !== null };
  }

  async get(id: string): Promise<MoveView> {
    return toMoveView(await this.require(id));
  }

  /** The app's moves, newest first. */
  async listForApp(instance: string): Promise<MoveView[]> {
    await this.requireApp(instance);
    return (await this.moves.listForInstance(instance)).map(toMoveView);
  }

  /**
   * Ends an unfinished move `cancelled` (MOVE_FINISHED for one that ended), leaving the app where
   * its data is safe. While the target restores (it accepted its failover start), its result is
   * awaited, up to `waitMs` (HIVE_COMMAND_TIMEOUT_S by default): a start that succeeded, or failed
   * after the target claimed the replica, leaves the app on the target; one that failed before
   * (nothing claimed) leaves it on the source. Without a result in time the target keeps it: its
   * start claims the replica before it restores. Before the target accepted a start, the app stays
   * on the source (nothing claimed its replica), started again there when the source is connected
   * and its stop ended. Runs between the move's steps, never during one.
   */
  async cancel(id: string, waitMs = this.graceMs()): Promise<MoveView> {
    await this.require(id);
    await this.takeOver(id);
    try {
      await this.exclusive(id, () => this.cancelNow(id, waitMs));
    } finally {
      if ((await this.moves.find(id))?.finishedAt !== null) await this.leases.release(moveLease(id));
    }
    return this.get(id);
  }

  /**
   * The move's lease for this process: held already, free, or handed over by the process that
   * holds it at its next step boundary (it hears the request at its next renewal). Its lease
   * expires if that process died. MOVE_IN_PROGRESS when neither happens in time.
   */
  private async takeOver(id: string): Promise<void> {
    const name = moveLease(id);
    if (this.leases.holds(name) || (await this.leases.acquire(name))) return;
    await this.leases.request(name);
    const { ttlMs, renewMs } = this.leases.timing;
    if (await this.leases.acquireWithin(name, ttlMs + renewMs)) {
      this.logger.log(`move ${id}: handed over to this process`);
      return;
    }
    throw new HiveError(
      HiveErrorCode.MOVE_IN_PROGRESS,
      `Move ${id} runs on another Hive process, which did not hand it over within ${Math.round((ttlMs + renewMs) / 1000)} s; try again.`,
      { moveId: id },
    );
  }

  /** Another process asked for a move's lease (a cancel): the lease goes to it once the current run ended. */
  private handOver(name: string): void {
    if (!name.startsWith(MOVE_LEASE_PREFIX)) return;
    const id = name.slice(MOVE_LEASE_PREFIX.length);
    if (this.handingOver.has(id)) return;
    this.handingOver.add(id);
    void this.exclusive(id, async () => {
      try {
        if (await this.leases.handOver(name)) this.logger.log(`move ${id}: handed over to another process`);
        // Nobody asks any more (the asker gave up, or took the expired lease): keep running it here if it is still ours.
        else if (!this.closed) await this.leases.acquire(name);
      } finally {
        this.handingOver.delete(id);
      }
    }).catch((err: Error) => this.logger.warn(`handing move ${id} over failed (its lease expires by itself): ${err.message}`));
  }

  /** For the app endpoints: nothing else may start or stop an app while it moves. */
  async assertNotMoving(instance: string): Promise<void> {
    const unfinished = await this.moves.findUnfinished(instance);
    if (unfinished) throw this.inProgress(instance, unfinished);
  }

  /** Resolves with the move once it ended, or as it stands after `timeoutMs` (or when the Hive stops). */
  async whenFinished(id: string, timeoutMs: number): Promise<MoveView> {
    await this.require(id);
    if (!this.closed) {
      // Listening before the move is read again: an end that comes in between still wakes this caller.
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => {
        const waiters = this.finishWaiters.get(id) ?? new Set<() => void>();
        wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          if (waiters.size === 0 && this.finishWaiters.get(id) === waiters) this.finishWaiters.delete(id);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, timeoutMs));
        waiters.add(wake);
        this.finishWaiters.set(id, waiters);
      });
      if ((await this.require(id)).finishedAt !== null) wake();
      await woken;
    }
    return this.get(id);
  }

  /**
   * Resolves once no run is going on or queued (for tests and tools). A device's return is
   * handled a macrotask after its proof, so one macrotask passes first.
   */
  async idle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.runs.size || this.background.size) await Promise.all([...this.runs.values(), ...this.background]);
  }

  /** Runs every unfinished move once (at boot); resolves when those runs are over. */
  async resume(): Promise<void> {
    const unfinished = await this.moves.listUnfinished();
    if (unfinished.length) this.logger.log(`resuming ${unfinished.length} unfinished move(s)`);
    await Promise.all(unfinished.map((move) => this.kick(move.id)));
  }

  /** The periodic pass; resolves when its runs are over. */
  async sweep(): Promise<void> {
    await Promise.all((await this.moves.listUnfinished()).map((move) => this.kick(move.id)));
  }

  private async begin(instance: string, request: MoveRequest): Promise<MoveRecord> {
    const app = await this.requireApp(instance);
    const to = request.to;
    await this.devices.require(to);
    const from = app.deviceId;
    const force = request.force ?? false;
    if (from === to) throw new HiveError(HiveErrorCode.SAME_DEVICE, `App ${instance} is on device ${to} already.`);
    if (from === null && !force) {
      throw new HiveError(
        HiveErrorCode.APP_UNASSIGNED,
        `App ${instance} has no device (it was revoked), so nothing can stop it with a final replica. ` +
          'Move it with force: true to accept losing what changed after its last replica.',
      );
    }
    const unfinished = await this.moves.findUnfinished(instance);
    if (unfinished) throw this.inProgress(instance, unfinished);
    if (!this.online(to)) throw new HiveError(HiveErrorCode.DEVICE_OFFLINE, `The target device ${to} is not connected and authenticated.`);
    const fromOnline = from !== null && this.online(from);
    if (from !== null && !fromOnline && !force) {
      throw new HiveError(
        HiveErrorCode.DEVICE_OFFLINE,
        `Device ${from}, where app ${instance} is, is not connected and authenticated, so it cannot stop the app with a final replica. ` +
          'Move it with force: true to go on without it and accept losing what changed after its last replica.',
      );
    }
    // A failover start fetches the keys from the Hive (§2.1): without them B could only fail, after A stopped.
    try {
      await this.keys.get(instance);
    } catch {
      throw new HiveError(
        HiveErrorCode.KEYS_MISSING,
        `The Hive has no keys for app ${instance}, so no other device could restore it; nothing was stopped.`,
      );
    }

    const now = this.clock.now().toISOString();
    let move: MoveRecord = {
      id: randomUUID(),
      instance,
      fromDeviceId: from,
      toDeviceId: to,
      force,
      state: fromOnline && (request.stage ?? true) ? 'staging' : 'stopping',
      error: null,
      stopError: null,
      lossWindow: null,
      precopyCommandId: null,
      prepareCommandId: null,
      stageUpdateCommandId: null,
      stopCommandId: null,
      startCommandId: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      resolvedOn: null,
      resolution: null,
      stoppedAt: null,
      downtimeMs: null,
      totalMs: null,
    };
    try {
      await this.moves.transaction(async () => {
        // Stored with the move before it is sent: whatever happens next, the move knows its command.
        if (move.state === 'staging' && from !== null) {
          // A's first copy, while it runs the app (§2.8), beside B's stage; B brings its stage up to date with it after.
          move.precopyCommandId = (await this.commands.prepare(from, CommandType.SchedulerReplicate, { instance })).id;
          // The start that will follow goes with the stage: B checks the app's compose and policy now,
          // while A still runs it, and its failover start need not (§2.7).
          move.prepareCommandId = (await this.commands.prepare(to, CommandType.SchedulerPrepare, { instance, start: startParams(app, true) })).id;
        } else if (fromOnline) {
          move.stopCommandId = (await this.commands.prepare(from, CommandType.SchedulerStop, { instance, replicate: true })).id;
        } else {
          const skipped =
            from === null
              ? errorOf(HiveErrorCode.APP_UNASSIGNED, 'The app had no device (it was revoked): nothing was stopped.')
              : errorOf(HiveErrorCode.DEVICE_OFFLINE, `Device ${from} was offline: its stop was skipped.`);
          // Nothing can stop the app there: it is down (for the Hive) from now on.
          move = { ...move, state: 'replicated', stopError: skipped, lossWindow: await this.lossWindowOf(move), stoppedAt: now };
        }
        await this.moves.insert(move);
      });
    } catch (err) {
      if (err instanceof UnfinishedMoveExists) throw this.inProgress(instance, await this.moves.findUnfinished(instance));
      throw err;
    }
    // Run here, where the request came in (another process's sweep may have taken it in between: it runs there then).
    await this.leases.acquire(moveLease(move.id));
    this.changes.publish('moves', move.id);
    this.logger.log(`moving app ${instance} from device ${from ?? '(none)'} to ${to}${force ? ' (forced)' : ''}: move ${move.id}`);
    return move;
  }

  /** Runs `work` after the move's current run, before any later one. */
  private exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const pending = this.runs.get(id) ?? Promise.resolve();
    const done = pending.then(work);
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.runs.set(id, settled);
    void settled.then(() => {
      if (this.runs.get(id) === settled) this.runs.delete(id);
    });
    return done;
  }

  private async cancelNow(id: string, waitMs: number): Promise<void> {
    let move = await this.require(id);
    if (move.finishedAt !== null) throw this.finishedError(move);
    let start = move.startCommandId === null ? undefined : await this.commands.lookup(move.toDeviceId, move.startCommandId);
    if (start?.ack?.accepted && start.status === 'accepted') {
      start = await this.settledOrNot(move.toDeviceId, start.id, waitMs);
      move = await this.require(id);
      if (move.finishedAt !== null) throw this.finishedError(move);
    }
    const at = this.clock.now().toISOString();
    // The target holds the data once it accepted the failover start, unless that failed before its claim.
    if (start?.ack?.accepted && !(start.status === 'failed' && !claimedBefore(start.error?.code))) {
      const resolution =
        start.status === 'succeeded'
          ? `Cancelled while device ${move.toDeviceId} restored the app, which then ran there: it stays there.`
          : start.status === 'failed'
            ? `Cancelled after device ${move.toDeviceId} took the replica over; its start failed (${start.error?.code ?? 'INTERNAL'}): start the app again there.`
            : `Cancelled while device ${move.toDeviceId} restores the app, with no result within ${Math.round(waitMs / 1000)} s: its start took the replica over before restoring, so the app is left there and its start goes on.`;
      await this.moves.transaction(async () => {
        await this.apps.assign(move.instance, move.toDeviceId, 'running', at);
        await this.update(move, { state: 'cancelled', resolvedOn: move.toDeviceId, resolution });
      });
      this.logger.log(`move ${id} of app ${move.instance} cancelled: the app stays on device ${move.toDeviceId}`);
      return;
    }
    const from = move.fromDeviceId;
    if (from === null) {
      await this.update(move, {
        state: 'cancelled',
        resolution: 'Cancelled before any device took the app over; it had no device (its device was revoked): move it again.',
      });
      return;
    }
    if (move.state === 'staging') {
      // Nothing stopped yet: the app runs where it was. A stage B finished is dropped (finished()).
      const resolution = `Cancelled while device ${move.toDeviceId} staged the app: it never stopped on device ${from}, where it stays.`;
      await this.update(move, { state: 'cancelled', resolvedOn: from, resolution });
      this.logger.log(`move ${id} of app ${move.instance} cancelled while staging: the app stays on device ${from}`);
      return;
    }
    const stop = move.stopCommandId === null ? undefined : await this.commands.lookup(from, move.stopCommandId);
    const stopRuns = stop !== undefined && (stop.status === 'accepted' || stop.status === 'sent');
    let resolution = `Cancelled before device ${move.toDeviceId} took the replica over: the app stays on device ${from}, which holds its newest data`;
    let restart = false;
    if (stopRuns) resolution += '; its stop was under way there: start the app again when it ended.';
    else if (stop === undefined && move.stopError !== null) resolution += ` (its stop was skipped: ${move.stopError.code}); start it when the device is back.`;
    else if (!this.online(from)) resolution += ': start it again when the device is back.';
    else {
      restart = true;
      resolution += ', where it is started again.';
    }
    await this.update(move, { state: 'cancelled', resolvedOn: from, resolution });
    this.logger.log(`move ${id} of app ${move.instance} cancelled: the app stays on device ${from}`);
    if (restart) await this.restartOnSource(move.instance, from);
  }

  private finishedError(move: MoveRecord): HiveError {
    return new HiveError(HiveErrorCode.MOVE_FINISHED, `Move ${move.id} ended ${move.state} already; there is nothing to cancel.`, {
      moveId: move.id,
      state: move.state,
    });
  }

  /** The command once it settled, or as it stands after `waitMs` (or when the Hive stops). */
  private async settledOrNot(deviceId: string, commandId: string, waitMs: number): Promise<CommandView | undefined> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop();
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, waitMs));
      const stop = this.commands.onSettled((settled) => settled.commandId === commandId && done());
      void this.commands.lookup(deviceId, commandId).then(
        (now) => (!now || now.status !== 'accepted' || this.closed) && done(),
        () => done(),
      );
    });
    return this.commands.lookup(deviceId, commandId);
  }

  /** After a cancelled move: the app runs again on the device it never left. */
  private async restartOnSource(instance: string, deviceId: string): Promise<void> {
    const app = await this.apps.find(instance);
    if (!app) return;
    try {
      const outcome = await this.commands.send(deviceId, CommandType.SchedulerStart, startParams(app, false), { wait: false });
      if (outcome.command.ack?.accepted) await this.apps.setDesired(instance, 'running', this.clock.now().toISOString());
      this.changes.publish('apps', instance);
    } catch (err) {
      this.logger.warn(`the app ${instance} could not be started again on device ${deviceId}: ${(err as Error).message}`);
    }
  }

  /**
   * Queues a run of the move's machine; runs of one move never overlap, and kicks while one is
   * queued add nothing. A run happens only on the process that holds (or takes) the move's lease.
   */
  private kick(id: string): Promise<void> {
    const pending = this.runs.get(id);
    if (this.queued.has(id) && pending) return pending;
    if (this.closed) return pending ?? Promise.resolve();
    this.queued.add(id);
    const run = (pending ?? Promise.resolve())
      .then(async () => {
        this.queued.delete(id);
        if (await this.ownLease(id)) await this.run(id);
      })
      .catch((err: unknown) => this.logger.error(`move ${id} stopped on an error: ${(err as Error)?.stack ?? String(err)}`));
    this.runs.set(id, run);
    void run.then(() => {
      if (this.runs.get(id) === run) this.runs.delete(id);
    });
    return run;
  }

  /** True when this process holds the move's lease, or took it now (free, or expired: its process died). */
  private async ownLease(id: string): Promise<boolean> {
    if (this.closed || this.handingOver.has(id)) return false;
    const name = moveLease(id);
    if (this.leases.holds(name)) return true;
    return this.leases.acquire(name);
  }

  /**
   * Takes steps while each one leads somewhere; stops when the move waits for a device or ended,
   * or this process no longer holds its lease (lost, or asked for).
   */
  private async run(id: string): Promise<void> {
    for (let steps = 0; steps < MAX_STEPS_PER_RUN && !this.closed; steps++) {
      if (this.handingOver.has(id) || !this.leases.holds(moveLease(id))) return;
      const move = await this.moves.find(id);
      if (!move || move.finishedAt !== null) {
        await this.leases.release(moveLease(id));
        return;
      }
      if (!(await this.step(move))) return;
    }
  }

  /** One transition, or none when the move has to wait. Returns true when another step may follow at once. */
  private async step(move: MoveRecord): Promise<boolean> {
    if (!(await this.apps.find(move.instance))) {
      return this.fail(move, errorOf(HiveErrorCode.NOT_FOUND, `App ${move.instance} was removed during the move.`));
    }
    switch (move.state) {
      case 'staging':
        return this.stepStaging(move);
      case 'stopping':
        return this.stepStopping(move);
      case 'replicated':
        return this.stepReplicated(move);
      case 'restoring':
        return this.stepRestoring(move);
      default:
        return false;
    }
  }

  /**
   * A's first copy and B's stage go out side by side, A still running the app. B's stage: failed (a
   * full disk, keys that do not open…), refused otherwise than below, or B away longer than the
   * grace → failed, and A was never stopped: nothing lost; refused as unknown (a device from before
   * staging), expired or busy → A's stop is issued (stopping), unstaged. Once B staged, A's first
   * copy is waited for (afterStage).
   */
  private async stepStaging(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    if (move.prepareCommandId === null) return this.fail(move, errorOf(HiveErrorCode.INTERNAL, 'The move is staging without a prepare command.'));
    const prepare = await this.commands.lookup(to, move.prepareCommandId);
    if (!prepare) return this.fail(move, errorOf(HiveErrorCode.NOT_FOUND, `The target device ${to} was revoked while it staged the app.`));
    const copy = await this.firstCopy(move);
    // A's first copy goes out beside B's stage (neither waits for the other's acknowledgement); it is
    // only waited for once B staged.
    if (copy && (copy.status === 'sent' || copy.status === 'timeout')) {
      const prepareUnsent = prepare.status === 'sent' || prepare.status === 'timeout';
      const [copyAcked, prepareAcked] = await Promise.all([
        this.send(move, move.fromDeviceId as string, copy, async () => false),
        prepareUnsent ? this.send(move, to, prepare, () => this.fail(move, this.wentAway(to, 'stage'))) : Promise.resolve(false),
      ]);
      if (copyAcked || prepareAcked) return true;
      // An unsent copy (A away) never holds up B's stage: its end is handled below.
      if (prepareUnsent) return false;
    }
    return this.stageEnded(move, prepare, {
      succeeded: () => this.afterStage(move, prepare, copy),
      // Unstaged; A's copy holds the app on A, so its stop waits for it.
      didNothing: () => this.afterCopy(move, copy, () => this.issueStop(move)),
    });
  }

  /**
   * Where a stage command on B (the first, or its update) leads. Succeeded → `next.succeeded`.
   * Refused as an older device (UNKNOWN_COMMAND), a stale command or a busy one (dropping an earlier
   * move's stage, say): B did nothing, and staging only saves time → `next.didNothing`. Failed (a full
   * disk, keys that do not open…), refused otherwise, or B away longer than the grace → failed, and
   * A was never stopped: nothing lost.
   */
  private stageEnded(move: MoveRecord, command: CommandView, next: { succeeded: () => Promise<boolean>; didNothing: () => Promise<boolean> }): Promise<boolean> {
    const to = move.toDeviceId;
    switch (command.status) {
      case 'succeeded':
        return next.succeeded();
      case 'refused':
        if (UNSTAGED_ON_REFUSAL.has(command.error?.code ?? '')) {
          this.logger.log(`move ${move.id}: device ${to} cannot stage (${command.error?.code}); going on with what it staged before, if anything`);
          return next.didNothing();
        }
        return this.fail(move, this.notStaged(to, command.error));
      case 'failed':
        return this.fail(move, this.notStaged(to, command.error));
      case 'accepted':
        // B restores ahead; its result comes (from its outbox if need be), unless B stays away too long.
        return this.online(to) || !this.offlineTooLong(to) ? Promise.resolve(false) : this.fail(move, this.wentAway(to, 'stage'));
      case 'sent':
      case 'timeout':
        return this.send(move, to, command, () => this.fail(move, this.wentAway(to, 'stage')));
    }
  }

  /**
   * Runs `then` once A's first copy ended (or there is none): while it runs it holds the app on A,
   * whose stop would be refused BUSY. Done, refused, failed or A away longer than the grace: the
   * copy only saves downtime, so each goes on.
   */
  private async afterCopy(move: MoveRecord, copy: CommandView | undefined, then: (copied: boolean) => Promise<boolean>): Promise<boolean> {
    const from = move.fromDeviceId;
    if (from === null || copy === undefined) return then(false);
    switch (copy.status) {
      case 'succeeded':
        return then(true);
      case 'refused':
      case 'failed':
        this.logger.log(`move ${move.id}: no first copy on device ${from} (${copy.error?.code ?? 'INTERNAL'}: ${copy.error?.message ?? 'no reason given'}); its stop replicates all that changed`);
        return then(false);
      case 'accepted':
        // A replicates; its result comes (from its outbox if need be), unless A stays away too long.
        return this.online(from) || !this.offlineTooLong(from) ? false : then(false);
      case 'sent':
      case 'timeout':
        return this.send(move, from, copy, () => then(false));
    }
  }

  /** A's first copy (SchedulerAction.replicate, §2.8), when the move sent one. */
  private async firstCopy(move: MoveRecord): Promise<CommandView | undefined> {
    if (move.fromDeviceId === null || move.precopyCommandId === null) return undefined;
    return this.commands.lookup(move.fromDeviceId, move.precopyCommandId);
  }

  /**
   * B staged: A's first copy is waited for, then B's stage is brought up to date with it (a second
   * prepare: its plugin applies only what changed) unless the stage holds it already; then A's stop
   * is issued. Without a copy (refused by a device from before it, failed, A away longer than the
   * grace) A's stop follows at once.
   */
  private afterStage(move: MoveRecord, prepare: CommandView, copy: CommandView | undefined): Promise<boolean> {
    return this.afterCopy(move, copy, async (copied) => {
      if (!copied || stageHoldsCopy(prepare.result, copy?.result)) return this.issueStop(move);
      return move.stageUpdateCommandId === null ? this.updateStage(move) : this.stepStageUpdate(move);
    });
  }

  /** B's second prepare (with the start that will follow, as the first): its stage brought up to date with A's first copy. */
  private async updateStage(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    if (!this.online(to)) return this.offlineTooLong(to) ? this.fail(move, this.wentAway(to, 'stage')) : false;
    const app = await this.requireApp(move.instance);
    try {
      return await this.moves.transaction(async () => {
        const prepare = await this.commands.prepare(to, CommandType.SchedulerPrepare, { instance: move.instance, start: startParams(app, true) });
        this.logger.log(`move ${move.id}: bringing the stage on device ${to} up to date with the first copy`);
        return this.updateOrUndo(move, { stageUpdateCommandId: prepare.id });
      });
    } catch (err) {
      if (err instanceof MoveChanged) return false;
      if (err instanceof HiveError && err.code === HiveErrorCode.DEVICE_OFFLINE) return false;
      if (err instanceof HiveError) return this.fail(move, err.toJSON());
      throw err;
    }
  }

  /**
   * B's stage brought up to date: succeeded → A's stop. Refused as an older device, a stale command
   * or a busy one would be → A's stop all the same (B keeps what it staged first). Failed (a full
   * disk: the plugin dropped the stage), refused otherwise, or B away longer than the grace →
   * failed, A never stopped, as a first stage that fails.
   */
  private async stepStageUpdate(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    const update = await this.commands.lookup(to, move.stageUpdateCommandId as string);
    if (!update) return this.fail(move, errorOf(HiveErrorCode.NOT_FOUND, `The target device ${to} was revoked while it staged the app.`));
    return this.stageEnded(move, update, { succeeded: () => this.issueStop(move), didNothing: () => this.issueStop(move) });
  }

  /**
   * Issues A's stop, stored with the move's step to `stopping` in one transaction. An A that went
   * away while B staged is waited for up to the grace, then handled as a stop it never answered
   * (failed, or with force on without it).
   */
  private async issueStop(move: MoveRecord): Promise<boolean> {
    const from = move.fromDeviceId;
    if (from === null) return this.fail(move, errorOf(HiveErrorCode.INTERNAL, 'The move is staging without a device to stop.'));
    if (!this.online(from)) return this.offlineTooLong(from) ? this.stopFailed(move, this.wentAway(from, 'stop')) : false;
    try {
      return await this.moves.transaction(async () => {
        const stop = await this.commands.prepare(from, CommandType.SchedulerStop, { instance: move.instance, replicate: true });
        return this.updateOrUndo(move, { state: 'stopping', stopCommandId: stop.id });
      });
    } catch (err) {
      if (err instanceof MoveChanged) return false;
      if (err instanceof HiveError && err.code === HiveErrorCode.DEVICE_OFFLINE) return false;
      throw err;
    }
  }

  private notStaged(to: string, error: ProtocolError | undefined | null): ProtocolError {
    const why = error ? `${error.code}: ${error.message}` : 'no reason given';
    return errorOf(
      (error?.code as HiveErrorCode | undefined) ?? HiveErrorCode.INTERNAL,
      `Device ${to} could not stage the app (${why}); it was never stopped where it runs.`,
    );
  }

  /** A's stop: succeeded → replicated; any other end → failed, or with force replicated with the loss window. */
  private async stepStopping(move: MoveRecord): Promise<boolean> {
    const from = move.fromDeviceId;
    if (from === null || move.stopCommandId === null) {
      return this.fail(move, errorOf(HiveErrorCode.INTERNAL, 'The move is stopping without a stop command.'));
    }
    const stop = await this.commands.lookup(from, move.stopCommandId);
    if (!stop) return this.stopFailed(move, errorOf(HiveErrorCode.NOT_FOUND, `Device ${from} was revoked during the stop.`));
    // As for POST /api/apps/:instance/stop: the Hive's intent follows what the device accepted.
    if (stop.ack?.accepted) {
      await this.recordStopped(move.instance);
      // The app's downtime begins with the acknowledged stop (a step follows the acknowledgement at once).
      if (move.stoppedAt === null) {
        const stoppedAt = this.clock.now().toISOString();
        if (!(await this.update(move, { stoppedAt }))) return false;
        move = { ...move, stoppedAt };
      }
    }
    switch (stop.status) {
      case 'succeeded':
        return this.update(move, { state: 'replicated' });
      case 'refused':
        if (this.expiredOnResend(stop)) return this.reissue(move, 'stop', () => this.stopFailed(move, this.wentAway(from, 'stop')));
        return this.stopFailed(move, stop.error ?? errorOf(HiveErrorCode.INTERNAL, `Device ${from} refused the stop.`));
      case 'failed':
        return this.stopFailed(move, stop.error ?? errorOf(HiveErrorCode.INTERNAL, `The stop failed on device ${from}.`));
      case 'timeout':
        return this.stopFailed(move, errorOf(HiveErrorCode.NO_ANSWER, `Device ${from} did not acknowledge the stop.`));
      case 'accepted':
        // A replicates; its result comes, from its outbox if need be. Unless A stays away too long.
        return this.online(from) || !this.offlineTooLong(from) ? false : this.stopFailed(move, this.wentAway(from, 'stop'));
      case 'sent':
        return this.send(move, from, stop, () => this.stopFailed(move, this.wentAway(from, 'stop')));
    }
  }

  /** Issues the failover start on B, stored with the move's step to `restoring` in one transaction. */
  private async stepReplicated(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    if (!(await this.deviceExists(to))) return this.fail(move, errorOf(HiveErrorCode.NOT_FOUND, `The target device ${to} was revoked.`));
    if (!this.online(to)) return this.offlineTooLong(to) ? this.fail(move, this.wentAway(to, 'start')) : false;
    const app = await this.requireApp(move.instance);
    try {
      return await this.moves.transaction(async () => {
        const start = await this.commands.prepare(to, CommandType.SchedulerStart, startParams(app, true));
        return this.updateOrUndo(move, { state: 'restoring', startCommandId: start.id });
      });
    } catch (err) {
      if (err instanceof MoveChanged) return false;
      if (err instanceof HiveError && err.code === HiveErrorCode.DEVICE_OFFLINE) return false;
      if (err instanceof HiveError) return this.fail(move, err.toJSON());
      throw err;
    }
  }

  /** B's failover start: succeeded → running (the app is B's now); failed or refused → failed. */
  private async stepRestoring(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    if (move.startCommandId === null) {
      return this.fail(move, errorOf(HiveErrorCode.INTERNAL, 'The move is restoring without a start command.'));
    }
    const start = await this.commands.lookup(to, move.startCommandId);
    if (!start) return this.fail(move, errorOf(HiveErrorCode.NOT_FOUND, `The target device ${to} was revoked during the start.`));
    switch (start.status) {
      case 'succeeded':
        return this.moves.transaction(async () => {
          await this.apps.assign(move.instance, to, 'running', this.clock.now().toISOString());
          await this.update(move, { state: 'running' }, start.finishedAt);
          return false;
        });
      case 'refused':
        if (this.expiredOnResend(start)) return this.reissue(move, 'start', () => this.fail(move, this.wentAway(to, 'start')));
        return this.fail(move, start.error ?? errorOf(HiveErrorCode.INTERNAL, `Device ${to} refused the start.`));
      case 'failed':
        return this.fail(move, start.error ?? errorOf(HiveErrorCode.INTERNAL, `The start failed on device ${to}.`));
      case 'accepted':
        // B restores; however long that takes, its result comes (from its outbox if need be).
        return false;
      case 'sent':
      case 'timeout':
        // Unanswered so far: sending the same id again is safe, B runs it at most once.
        return this.send(move, to, start, () => this.fail(move, this.wentAway(to, 'start')));
    }
  }

  /**
   * Emits a command nobody acknowledged yet (new, or left `sent` by a previous process, or
   * unanswered) with its original id. Waits while its device is offline, up to the grace;
   * then `giveUp`. An unanswered command is re-sent at most once per ack timeout.
   */
  private async send(move: MoveRecord, deviceId: string, command: CommandView, giveUp: () => Promise<boolean>): Promise<boolean> {
    if (!this.online(deviceId)) return this.offlineTooLong(deviceId) ? giveUp() : false;
    if (this.emitting.has(command.id)) return false;
    const last = this.lastEmitted.get(command.id);
    if (last !== undefined && this.clock.now().getTime() - last < this.graceMs()) return false;
    this.lastEmitted.set(command.id, this.clock.now().getTime());
    this.emitting.add(command.id);
    let outcome: SendOutcome;
    try {
      outcome = await this.commands.dispatch(deviceId, command.id, { wait: false });
    } catch (err) {
      this.lastEmitted.delete(command.id);
      // Gone before the emit: the device's return, or the sweep, brings the move back here.
      if (err instanceof HiveError && (err.code === HiveErrorCode.DEVICE_OFFLINE || err.code === HiveErrorCode.NOT_FOUND)) return false;
      throw err;
    } finally {
      this.emitting.delete(command.id);
    }
    this.logger.log(`move ${move.id}: ${command.type} ${command.id} ${outcome.command.status} by device ${deviceId}`);
    return outcome.command.status !== 'sent';
  }

  /** Replaces a command the device refused as EXPIRED after a restart (it never ran it) with a fresh one. */
  private async reissue(move: MoveRecord, which: 'stop' | 'start', giveUp: () => Promise<boolean>): Promise<boolean> {
    const deviceId = (which === 'stop' ? move.fromDeviceId : move.toDeviceId) as string;
    const app = await this.requireApp(move.instance);
    if (!this.online(deviceId)) return this.offlineTooLong(deviceId) ? giveUp() : false;
    const params = which === 'stop' ? { instance: move.instance, replicate: true } : startParams(app, true);
    const type = which === 'stop' ? CommandType.SchedulerStop : CommandType.SchedulerStart;
    try {
      return await this.moves.transaction(async () => {
        const command = await this.commands.prepare(deviceId, type, params);
        this.logger.log(`move ${move.id}: device ${deviceId} never ran the ${which}, which was too old to send again; issued ${command.id}`);
        return this.updateOrUndo(move, which === 'stop' ? { stopCommandId: command.id } : { startCommandId: command.id });
      });
    } catch (err) {
      if (err instanceof MoveChanged) return false;
      throw err;
    }
  }

  /** The stop did not give a final replica: without force the move fails; with force it goes on and records the loss window. */
  private async stopFailed(move: MoveRecord, error: ProtocolError): Promise<boolean> {
    if (!move.force) return this.fail(move, error);
    this.logger.warn(`move ${move.id}: the stop on device ${move.fromDeviceId} failed (${error.code}); going on as forced`);
    return this.update(move, {
      state: 'replicated',
      stopError: error,
      lossWindow: await this.lossWindowOf(move),
      stoppedAt: move.stoppedAt ?? this.clock.now().toISOString(),
    });
  }

  private async fail(move: MoveRecord, error: ProtocolError): Promise<boolean> {
    this.logger.warn(`move ${move.id} of app ${move.instance} failed in ${move.state}: ${error.code} ${error.message}`);
    await this.update(move, { state: 'failed', error });
    return false;
  }

  /** `update` inside a transaction that prepared a command: a move that changed meanwhile rolls the command back (MoveChanged). */
  private async updateOrUndo(move: MoveRecord, changes: MoveChanges): Promise<true> {
    if (!(await this.update(move, changes))) throw new MoveChanged(move.id);
    return true;
  }

  /**
   * Stores the move's next state (a finished one never changes again, and a state is only ever
   * left by the step that read it: `move.state` must still be stored); true when it was stored.
   * An ending records the total time; one in `running` the downtime, up to `runningAt` (the target's start result).
   */
  private async update(move: MoveRecord, changes: MoveChanges, runningAt?: string): Promise<boolean> {
    const at = this.clock.now().toISOString();
    const next: MoveRecord = { ...move, ...changes, updatedAt: at };
    if (FINAL_MOVE_STATES.includes(next.state)) {
      next.finishedAt = at;
      next.totalMs = Math.max(0, Date.parse(at) - Date.parse(next.createdAt));
      if (next.state === 'running') {
        const end = Math.min(Date.parse(runningAt ?? at), Date.parse(at));
        next.downtimeMs = Math.max(0, end - Date.parse(next.stoppedAt ?? next.createdAt));
      }
    }
    if (!(await this.moves.save(next, move.state))) return false;
    if (next.downtimeMs !== null) this.metrics.moveDowntime.observe(next.downtimeMs / 1000);
    if (next.totalMs !== null) this.metrics.moveTotal.observe({ state: next.state }, next.totalMs / 1000);
    this.changes.publish('moves', move.id);
    if (next.state !== move.state) this.changes.publish('apps', move.instance);
    if (next.state !== move.state) this.logger.log(`move ${move.id} of app ${move.instance}: ${move.state} → ${next.state}`);
    if (next.finishedAt !== null) this.finished(next);
    return true;
  }

  private finished(move: MoveRecord): void {
    for (const id of [move.precopyCommandId, move.prepareCommandId, move.stageUpdateCommandId, move.stopCommandId, move.startCommandId]) if (id !== null) this.lastEmitted.delete(id);
    // Nobody needs to run it any more, once the transaction that ended it committed.
    this.inBackground(
      new Promise<boolean>((resolve) => this.moves.afterTransaction(resolve)).then((committed) => (committed ? this.leases.release(moveLease(move.id)) : undefined)),
    );
    if (move.state === 'failed' || move.state === 'cancelled') {
      // After the transaction that ended the move (its caller's) committed: the stage is dropped on its own time.
      this.inBackground(
        new Promise<boolean>((resolve) => this.moves.afterTransaction(resolve)).then((committed) => (committed ? this.discardStage(move) : undefined)),
      );
    }
    // Waiters re-read the move: they wake once the transaction that ended it committed, not before
    // (on PostgreSQL a commit is I/O, so a turn of the event loop is not enough).
    this.moves.afterTransaction(() => {
      for (const wake of [...(this.finishWaiters.get(move.id) ?? [])]) wake();
    });
  }

  /**
   * A move that failed after B staged the app and before B's start was issued: B is asked to drop
   * the stage (best effort, when connected; a restart of its plugin drops it too).
   */
  private async discardStage(move: MoveRecord): Promise<void> {
    if (move.prepareCommandId === null || move.startCommandId !== null) return;
    const to = move.toDeviceId;
    try {
      if (!(await this.holdsStage(move)) || !this.online(to)) return;
      const discard = await this.commands.prepare(to, CommandType.SchedulerPrepare, { instance: move.instance, discard: true });
      await this.commands.dispatch(to, discard.id, { wait: false });
    } catch (err) {
      this.logger.warn(`move ${move.id}: dropping the stage on ${to}: ${(err as Error).message}`);
    }
  }

  /**
   * Does B hold a stage for the move: its stage succeeded and no update of it is under way or failed
   * (a failed one leaves nothing; one under way is dropped when its late success comes in).
   */
  private async holdsStage(move: MoveRecord): Promise<boolean> {
    const to = move.toDeviceId;
    if (move.stageUpdateCommandId !== null) {
      const update = await this.commands.lookup(to, move.stageUpdateCommandId);
      if (update?.status !== 'refused') return update?.status === 'succeeded';
    }
    return move.prepareCommandId !== null && (await this.commands.lookup(to, move.prepareCommandId))?.status === 'succeeded';
  }

  private async lossWindowOf(move: MoveRecord): Promise<LossWindow> {
    const report =
      move.fromDeviceId !== null && (await this.deviceExists(move.fromDeviceId)) ? (await this.reports.latest(move.fromDeviceId)).volumes : null;
    return lossWindow(report, move.instance, this.clock.now());
  }

  private async recordStopped(instance: string): Promise<void> {
    const app = await this.apps.find(instance);
    if (app && app.desired !== 'stopped') await this.apps.setDesired(instance, 'stopped', this.clock.now().toISOString());
  }

  private expiredOnResend(command: CommandView): boolean {
    return (
      command.error?.code === ErrorCode.EXPIRED && this.clock.now().getTime() - Date.parse(command.issuedAt) > REISSUE_EXPIRED_AFTER_MS
    );
  }

  private wentAway(deviceId: string, which: 'stage' | 'stop' | 'start'): ProtocolError {
    return errorOf(
      HiveErrorCode.DEVICE_OFFLINE,
      `Device ${deviceId} was offline for more than ${this.config.commandTimeoutS} s while the move needed its ${which}.`,
    );
  }

  private online(deviceId: string): boolean {
    const authenticated = this.sessions.status(deviceId).authenticated;
    if (authenticated) this.offlineSince.delete(deviceId);
    return authenticated;
  }

  /** True once the device has been offline for the grace (HIVE_COMMAND_TIMEOUT_S), counted from when this process first saw it so. */
  private offlineTooLong(deviceId: string): boolean {
    const now = this.clock.now().getTime();
    const since = this.offlineSince.get(deviceId) ?? now;
    this.offlineSince.set(deviceId, since);
    return now - since >= this.graceMs();
  }

  private graceMs(): number {
    return this.config.commandTimeoutS * 1000;
  }

  private async deviceExists(deviceId: string): Promise<boolean> {
    try {
      await this.devices.require(deviceId);
      return true;
    } catch {
      return false;
    }
  }

  private onCommandSettled(commandId: string, status: CommandStatus): void {
    this.kickUnfinished((move) =>
      [move.precopyCommandId, move.prepareCommandId, move.stageUpdateCommandId, move.stopCommandId, move.startCommandId].includes(commandId),
    );
    if (status === 'succeeded' && !this.closed) this.inBackground(this.discardLateStage(commandId));
  }

  /**
   * B's stage that succeeded after its move had already ended (B came back with the result after the
   * grace failed the move, say): nobody would use it, so B is asked to drop it, as when a move fails after
   * its stage. `discardStage` does nothing for a move that ended `running` (its start was issued).
   */
  private async discardLateStage(commandId: string): Promise<void> {
    try {
      const move = await this.moves.findFinishedByPrepare(commandId);
      if (move && (move.state === 'failed' || move.state === 'cancelled')) await this.discardStage(move);
    } catch (err) {
      this.logger.warn(`looking for a move that ended before its stage ${commandId}: ${(err as Error).message}`);
    }
  }

  private onDeviceAuthenticated(deviceId: string): void {
    this.kickUnfinished((move) => move.fromDeviceId === deviceId || move.toDeviceId === deviceId);
  }

  /** Kicks the unfinished moves `concerned` picks (from a listener: the work is scheduled, a failure logged). */
  private kickUnfinished(concerned: (move: MoveRecord) => boolean): void {
    if (this.closed) return;
    this.inBackground(
      this.moves.listUnfinished().then(
        (moves) => {
          for (const move of moves) if (concerned(move)) void this.kick(move.id);
        },
        (err: Error) => this.logger.error(`looking for the moves to go on with failed: ${err.message}`),
      ),
    );
  }

  private inBackground(work: Promise<void>): void {
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  private async require(id: string): Promise<MoveRecord> {
    const move = await this.moves.find(id);
    if (!move) throw new HiveError(HiveErrorCode.NOT_FOUND, `No move has the id ${id}.`);
    return move;
  }

  private async requireApp(instance: string): Promise<AppRecord> {
    const app = await this.apps.find(instance);
    if (!app) throw new HiveError(HiveErrorCode.NOT_FOUND, `No app has the instance id ${instance}.`);
    return app;
  }

  private inProgress(instance: string, move: MoveRecord | undefined): HiveError {
    return new HiveError(
      HiveErrorCode.MOVE_IN_PROGRESS,
      `App ${instance} is being moved${move ? ` (move ${move.id}, ${move.state})` : ''}; wait for that move to end.`,
      move && { moveId: move.id, state: move.state },
    );
  }
}
