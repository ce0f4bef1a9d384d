/** What a Docker volume name may be here: Docker's own rule, bounded, so it is safe as a path element. */
export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export const VOLUME_ROLES = ['app', 'link'] as const;
export type VolumeRole = (typeof VOLUME_ROLES)[number];

export type ReplicationStateName = 'idle' | 'replicating' | 'error';

export interface ReplicationState {
  state: ReplicationStateName;
  /** Why the last replication failed (state `error`). */
  error?: string;
  /** Its error code: NOT_WRITER, KEYS_MISSING, REPLICATION_FAILED, … */
  code?: string;
}

/**
 * One volume as the plugin remembers it across restarts (state.json). It never holds a key or a
 * password: those live in memory only.
 */
export interface VolumeRecord {
  name: string;
  instance: string;
  role: VolumeRole;
  fingerprint: string;
  /** The device this plugin writes the replica for. */
  writer: string;
  createdAt: string;
  /** Docker mount ID → how many times it is mounted. */
  mounts: Record<string, number>;
  /** When the newest snapshot this volume's data is in was taken, or null. */
  lastReplicatedAt: string | null;
  replication: ReplicationState;
  /** False once the replica's newest snapshot names another writer. */
  isWriter: boolean;
}

/** A volume as the control API shows it. */
export interface VolumeView {
  name: string;
  instance: string;
  role: VolumeRole;
  fingerprint: string;
  mountpoint: string;
  mounts: number;
  sizeBytes: number;
  lastReplicatedAt: string | null;
  replication: ReplicationState;
  writer: string;
  isWriter: boolean;
}

export function mountCount(record: VolumeRecord): number {
  return Object.values(record.mounts).reduce((sum, n) => sum + n, 0);
}
