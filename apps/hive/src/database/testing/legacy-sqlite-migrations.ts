/**
 * Test fixture: the SQL text the SQLite-only Hive ran as its schema migrations (versions 1–8,
 * counted in PRAGMA user_version), frozen as it was released. migrations.spec.ts builds databases
 * with it, as Hives before the store layer left them, and proves that today's migrations carry
 * them forward without loss and make the same schema. Never edited.
 */
export const LEGACY_SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE account (
    id TEXT PRIMARY KEY,
    passphrase_salt TEXT NOT NULL,
    verifier_hash TEXT,
    verifier_hash_salt TEXT,
    verifier_set_at TEXT,
    created_at TEXT NOT NULL
  );

  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    version TEXT
  );

  CREATE TABLE commands (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    params TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    status TEXT NOT NULL,
    ack TEXT,
    result TEXT,
    error TEXT,
    progress TEXT,
    finished_at TEXT
  );
  CREATE INDEX commands_by_device ON commands (device_id, issued_at);

  CREATE TABLE reports (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, kind)
  );

  -- Keys outlive the device that put them: another device needs them for a failover.
  CREATE TABLE instance_keys (
    account_id TEXT NOT NULL REFERENCES account(id),
    instance TEXT NOT NULL,
    role TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    encrypted_private_key TEXT NOT NULL,
    put_by_device TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, instance, role)
  );
  `,
  `
  -- One row per app instance: everything SchedulerAction.start needs, so the same start can be
  -- sent again, or to another device when the app moves. links holds the link tokens the Hive
  -- issued: secrets, never shown by the REST API. An app outlives a revoked device (device_id NULL).
  CREATE TABLE apps (
    instance TEXT PRIMARY KEY,
    device_id TEXT REFERENCES devices(id) ON DELETE SET NULL,
    application TEXT NOT NULL,
    compose TEXT NOT NULL,
    variables TEXT NOT NULL,
    secret_variables TEXT NOT NULL,
    links TEXT NOT NULL,
    desired TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX apps_by_device ON apps (device_id);
  `,
  `
  -- Moving an app from one device to another (failover): a small state machine that survives a
  -- restart. Device ids are plain text, not references: a move is history, and the move service
  -- deals with a device revoked half-way. At most one unfinished move per instance.
  CREATE TABLE moves (
    id TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    from_device_id TEXT,
    to_device_id TEXT NOT NULL,
    force INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    stop_error TEXT,
    loss_window TEXT,
    stop_command_id TEXT,
    start_command_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE INDEX moves_by_instance ON moves (instance, created_at);
  CREATE UNIQUE INDEX moves_unfinished_per_instance ON moves (instance) WHERE finished_at IS NULL;

  -- The last UpgradeCommand.run the Hive sent each device, so a restart cannot send a burst.
  CREATE TABLE device_upgrades (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    last_attempt_at TEXT NOT NULL,
    reported_version TEXT NOT NULL,
    target_version TEXT NOT NULL,
    last_command_id TEXT,
    last_error TEXT
  );
  `,
  `
  -- Link tokens stay in the apps table alone: a start that ended (or was refused) is never sent
  -- again, so its stored params lose links.*.token (CommandRepository does so from now on).
  UPDATE commands
  SET params = json_set(params, '$.links', (SELECT json_group_object(key, json_remove(value, '$.token')) FROM json_each(commands.params, '$.links')))
  WHERE type = 'SchedulerAction.start' AND json_type(params, '$.links') = 'object' AND (finished_at IS NOT NULL OR status = 'refused');
  `,
  `
  -- The Console (apps/console): its one operator account (the password as a memory-hard hash),
  -- the sessions of signed-in browsers (only a hash of each session id), and the operator's
  -- settings (one row). Each table has its own repository under console-auth/ and settings/.
  CREATE TABLE console_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

  CREATE TABLE console_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    replication_warning_minutes INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  `
  -- Every UpgradeCommand.run the Hive sent a device, or tried to, and how it ended (outcome:
  -- pending, started, succeeded, rolled_back, failed; reason: the error). The latest attempt keeps a
  -- restart from sending a burst; a version rolled back on a device is never tried there again by itself.
  CREATE TABLE upgrade_attempts (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    from_version TEXT NOT NULL,
    target_version TEXT NOT NULL,
    target_image TEXT,
    command_id TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    finished_at TEXT
  );
  CREATE INDEX upgrade_attempts_by_device ON upgrade_attempts (device_id, requested_at);
  CREATE INDEX upgrade_attempts_by_command ON upgrade_attempts (command_id);
  -- The last attempt of each device becomes its first; its command, if it has one, decides its outcome.
  INSERT INTO upgrade_attempts (id, device_id, requested_at, requested_by, from_version, target_version, target_image, command_id, outcome, reason, finished_at)
    SELECT lower(hex(randomblob(16))), device_id, last_attempt_at, 'hive', reported_version, target_version, NULL, last_command_id,
           CASE WHEN last_error IS NULL THEN 'pending' ELSE 'failed' END, last_error,
           CASE WHEN last_error IS NULL THEN NULL ELSE last_attempt_at END
    FROM device_upgrades;
  DROP TABLE device_upgrades;
  `,
  `
  -- Moves that end cancelled say where the app's data is safe (resolved_on, a device id, and
  -- resolution, a sentence); every move records when its source's stop was acknowledged
  -- (stopped_at), the app's downtime (stop acknowledged → target's start result) and its total time.
  ALTER TABLE moves ADD COLUMN resolved_on TEXT;
  ALTER TABLE moves ADD COLUMN resolution TEXT;
  ALTER TABLE moves ADD COLUMN stopped_at TEXT;
  ALTER TABLE moves ADD COLUMN downtime_ms INTEGER;
  ALTER TABLE moves ADD COLUMN total_ms INTEGER;
  `,
  `
  -- A staged move: the target's SchedulerAction.prepare, sent before the source's stop.
  ALTER TABLE moves ADD COLUMN prepare_command_id TEXT;
  `,
];
