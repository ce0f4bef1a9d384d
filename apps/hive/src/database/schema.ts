/**
 * The Hive's tables as Kysely sees them: one row type per table, the same on SQLite and
 * PostgreSQL (migrations.ts makes both). Dates are ISO-8601 text, JSON is text, booleans are 0/1:
 * what the SQLite schema always held, so a database made before the store layer reads the same.
 * PostgreSQL's tables also have a `rowid` identity column (insertion order, as SQLite's rowid);
 * repositories only ever sort by it (`sql\`rowid\``), so it is left out of these types.
 */

export interface AccountRow {
  id: string;
  passphrase_salt: string;
  verifier_hash: string | null;
  verifier_hash_salt: string | null;
  verifier_set_at: string | null;
  created_at: string;
}

export interface DeviceRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_seen_at: string | null;
  version: string | null;
}

export interface CommandRow {
  id: string;
  device_id: string;
  type: string;
  params: string;
  issued_at: string;
  status: string;
  ack: string | null;
  result: string | null;
  error: string | null;
  progress: string | null;
  finished_at: string | null;
}

export interface ReportRow {
  device_id: string;
  kind: string;
  /** The report's own `at`, in epoch ms (BIGINT on PostgreSQL). */
  at_ms: number;
  payload: string;
  received_at: string;
}

export interface InstanceKeyRow {
  account_id: string;
  instance: string;
  role: string;
  fingerprint: string;
  public_key: string;
  encrypted_private_key: string;
  put_by_device: string | null;
  created_at: string;
}

export interface AppRow {
  instance: string;
  device_id: string | null;
  application: string;
  compose: string;
  variables: string;
  secret_variables: string;
  links: string;
  desired: string;
  created_at: string;
  updated_at: string;
}

export interface MoveRow {
  id: string;
  instance: string;
  from_device_id: string | null;
  to_device_id: string;
  /** 0 or 1. */
  force: number;
  state: string;
  error: string | null;
  stop_error: string | null;
  loss_window: string | null;
  prepare_command_id: string | null;
  precopy_command_id: string | null;
  stage_update_command_id: string | null;
  stop_command_id: string | null;
  start_command_id: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  resolved_on: string | null;
  resolution: string | null;
  stopped_at: string | null;
  downtime_ms: number | null;
  total_ms: number | null;
}

export interface ConsoleUserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
}

export interface ConsoleSessionRow {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
}

export interface ConsoleSettingsRow {
  id: number;
  replication_warning_minutes: number;
  updated_at: string;
}

export interface UpgradeAttemptRow {
  id: string;
  device_id: string;
  requested_at: string;
  requested_by: string;
  from_version: string;
  target_version: string;
  target_image: string | null;
  command_id: string | null;
  outcome: string;
  reason: string | null;
  finished_at: string | null;
}

export interface LeaseRow {
  name: string;
  /** The holding process's owner id (random per boot). */
  owner: string;
  /** Epoch ms by the database's clock; a lease past it is free. BIGINT on PostgreSQL. */
  expires_ms: number;
  /** A process that asked the holder to hand the lease over to it. */
  wanted_by: string | null;
}

export interface HiveTables {
  account: AccountRow;
  devices: DeviceRow;
  commands: CommandRow;
  reports: ReportRow;
  instance_keys: InstanceKeyRow;
  apps: AppRow;
  moves: MoveRow;
  console_users: ConsoleUserRow;
  console_sessions: ConsoleSessionRow;
  console_settings: ConsoleSettingsRow;
  upgrade_attempts: UpgradeAttemptRow;
  leases: LeaseRow;
}
