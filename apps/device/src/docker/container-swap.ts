import { Injectable } from '@nestjs/common';
import { DockerEngineAdapter, RestartPolicy } from './docker-engine.adapter';

/** Why a new container was not taken (docs/protocol.md §2.6, `ROLLED_BACK` details). */
export type RollbackReason = 'start_failed' | 'exited' | 'unhealthy' | 'timeout' | 'wrong_version';

/** Thrown by a swap's `verify`: the new container is not good, for this reason. */
export class SwapRefused extends Error {
  constructor(
    readonly reason: RollbackReason,
    message: string,
  ) {
    super(message);
    this.name = 'SwapRefused';
  }
}

export type SwapStep = 'aside' | 'created' | 'stopped' | 'started' | 'verified' | 'refused' | 'restored';

export interface SwapRequest {
  /** The container to replace, as it is now. */
  old: { id: string; name: string; running: boolean; restartPolicy: RestartPolicy };
  /** Its name while it waits aside: until the new one is taken, or it comes back. */
  asideName: string;
  /** How long the old container has to stop by itself before it is killed. */
  stopGraceS: number;
  /** Creates the new container under the old one's name, not started; returns its id. */
  create(): Promise<string>;
  /** Resolves once the new container, started, is good; throws (a SwapRefused says why) otherwise. */
  verify(newId: string): Promise<void>;
  /** Told of each step as it is done, for the log and the figures. */
  onStep?(step: SwapStep): void;
}

export type SwapResult =
  | { ok: true; newId: string }
  | { ok: false; reason: RollbackReason; message: string; restored: true }
  | { ok: false; reason: RollbackReason; message: string; restored: false; restoreError: string };

const NO_RESTART: RestartPolicy = { Name: 'no' };
/** A new container that was not taken gets this long to stop: it is removed anyway. */
const DISCARD_GRACE_S = 10;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Replaces a container by a new one under its name, keeping the old one until the new one is
 * good, and putting the old one back when it is not. Only one of them runs at any time: the old
 * one stops before the new one starts. The old one waits aside under another name with its
 * restart policy off, so an engine restart cannot start both; it gets its policy back with its
 * name. Volumes of either are never removed (the new container takes the old one's over).
 */
@Injectable()
export class ContainerSwap {
  constructor(private readonly engine: DockerEngineAdapter) {}

  /**
   * Throws when nothing could be changed (the old container stays as it was); otherwise resolves
   * with the new container taken, or with why not and whether the old one runs again.
   */
  async swap(request: SwapRequest): Promise<SwapResult> {
    const { old, onStep } = request;
    await this.engine.renameContainer(old.id, request.asideName);
    try {
      await this.engine.setRestartPolicy(old.id, NO_RESTART);
    } catch (err) {
      await this.engine.renameContainer(old.id, old.name);
      throw err;
    }
    onStep?.('aside');

    let newId: string | undefined;
    try {
      newId = await request.create();
      onStep?.('created');
      await this.engine.stopContainer(old.id, request.stopGraceS);
      onStep?.('stopped');
      await this.engine.startContainer(newId);
      onStep?.('started');
    } catch (err) {
      return this.putBack(
        request,
        newId,
        'start_failed',
        `the new container could not be ${newId ? 'started' : 'created'}: ${message(err)}`,
      );
    }

    try {
      await request.verify(newId);
      onStep?.('verified');
    } catch (err) {
      onStep?.('refused');
      return err instanceof SwapRefused
        ? this.putBack(request, newId, err.reason, err.message)
        : this.putBack(request, newId, 'start_failed', message(err));
    }
    // The new container is taken; an old one that cannot be removed only waits aside, stopped.
    await this.engine.removeContainer(old.id, 0, true).catch(() => undefined);
    return { ok: true, newId };
  }

  private async putBack(request: SwapRequest, newId: string | undefined, reason: RollbackReason, why: string): Promise<SwapResult> {
    const { old } = request;
    try {
      if (newId) await this.engine.removeContainer(newId, DISCARD_GRACE_S, true);
      await this.engine.renameContainer(old.id, old.name);
      await this.engine.setRestartPolicy(old.id, old.restartPolicy);
      if (old.running) await this.engine.startContainer(old.id);
      request.onStep?.('restored');
      return { ok: false, reason, message: why, restored: true };
    } catch (err) {
      return { ok: false, reason, message: why, restored: false, restoreError: message(err) };
    }
  }
}
