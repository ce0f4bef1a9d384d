// Generated from the Hive's OpenAPI document by `npm run api:generate`: do not edit.
// A unit test (apps/hive/src/api/openapi/hive-api-files.spec.ts) fails when it drifts from the controllers.

export interface paths {
    "/api/account": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Account_describe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/account/passphrase": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put: operations["Account_setPassphrase"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/account/passphrase/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Account_check"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Apps_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Apps_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/commands": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Apps_runCommand"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["AppKeys_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/move": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Moves_move"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/moves": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Moves_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Apps_start"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/apps/{instance}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Apps_stop"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/catalog": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Catalog_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/catalog/{app}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Catalog_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Devices_list"];
        put?: never;
        post: operations["Devices_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices/{deviceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Devices_get"];
        put?: never;
        post?: never;
        delete: operations["Devices_revoke"];
        options?: never;
        head?: never;
        patch: operations["Devices_rename"];
        trace?: never;
    };
    "/api/devices/{deviceId}/apps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeviceApps_list"];
        put?: never;
        post: operations["DeviceApps_install"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices/{deviceId}/commands": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeviceCommands_list"];
        put?: never;
        post: operations["DeviceCommands_send"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices/{deviceId}/commands/{commandId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeviceCommands_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices/{deviceId}/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeviceReports_latest"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/devices/{deviceId}/upgrade": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Devices_upgrade"];
        put?: never;
        post: operations["Devices_requestUpgrade"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Health_health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/moves/{moveId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Moves_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/moves/{moveId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Moves_cancel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Session_status"];
        put?: never;
        post: operations["Session_login"];
        delete: operations["Session_logout"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/session/setup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["Session_setup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Settings_get"];
        put: operations["Settings_update"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["Metrics_metricsText"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AccountSchema: {
            /** Format: uuid */
            id: string;
            passphrase: components["schemas"]["PassphraseSchema"];
        };
        AppCommandOutcomeSchema: {
            command: components["schemas"]["CommandSchema"];
            /** Format: uuid */
            instance: string;
        };
        AppCommandSpecSchema: {
            args: {
                [key: string]: components["schemas"]["CommandArgSchema"];
            };
            service: string;
        };
        ApplicationSchema: {
            appstore: string;
            name: string;
            version: string;
        };
        AppOutcomeSchema: {
            /** @description null once a stop with remove took the app away */
            app: components["schemas"]["AppSchema"] | null;
            command: components["schemas"]["CommandSchema"];
            /** Format: uuid */
            instance: string;
        };
        AppSchema: {
            application: components["schemas"]["ApplicationSchema"];
            containers: components["schemas"]["ContainerSchema"][];
            /** Format: date-time */
            createdAt: string;
            /** @enum {string} */
            desired: "running" | "stopped";
            /**
             * Format: uuid
             * @description null once its device was revoked
             */
            deviceId: string | null;
            /** Format: uuid */
            instance: string;
            links: {
                [key: string]: components["schemas"]["LinkSchema"];
            };
            /** Format: date-time */
            reportedAt: string | null;
            /** @enum {string} */
            state: "starting" | "running" | "degraded" | "stopped" | "failed" | "unknown";
            /** Format: date-time */
            updatedAt: string;
            /** @description Without the variables the catalog marks secret */
            variables: {
                [key: string]: string;
            };
            volumes: components["schemas"]["AppVolumeSchema"][];
        };
        AppVolumeSchema: {
            fingerprint: string;
            /** Format: date-time */
            lastReplicatedAt: string | null;
            name: string;
            publicKey: string;
            replication: components["schemas"]["ReplicationSchema"];
            /** @enum {string} */
            role: "app" | "link";
            sizeBytes: number;
        };
        CatalogAppSchema: {
            commands: {
                [key: string]: components["schemas"]["AppCommandSpecSchema"];
            };
            description: string;
            name: string;
            offline: boolean;
            open?: components["schemas"]["OpenSpecSchema"];
            title: string;
            variables: {
                [key: string]: components["schemas"]["VariableSpecSchema"];
            };
            version: string;
        };
        CatalogAppWithComposeSchema: {
            commands: {
                [key: string]: components["schemas"]["AppCommandSpecSchema"];
            };
            /** @description The compose template */
            compose: string;
            description: string;
            name: string;
            offline: boolean;
            open?: components["schemas"]["OpenSpecSchema"];
            title: string;
            variables: {
                [key: string]: components["schemas"]["VariableSpecSchema"];
            };
            version: string;
        };
        CheckPassphraseDto: {
            /** Format: byte */
            verifier: string;
        };
        CommandAckSchema: {
            accepted: boolean;
            /** @enum {boolean} */
            duplicate?: true;
            error?: components["schemas"]["ErrorSchema"];
        };
        CommandArgSchema: {
            pattern: string;
        };
        CommandProgressSchema: {
            /** Format: date-time */
            at: string;
            message?: string;
            percent?: number;
            stage: string;
        };
        CommandSchema: {
            ack: components["schemas"]["CommandAckSchema"] | null;
            error?: components["schemas"]["ErrorSchema"];
            /** Format: date-time */
            finishedAt?: string;
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            issuedAt: string;
            progress?: components["schemas"]["CommandProgressSchema"];
            /** @description The type's result (docs/protocol.md §2) */
            result?: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            status: "sent" | "accepted" | "refused" | "succeeded" | "failed" | "timeout";
            type: string;
        };
        ConsoleSettingsDto: {
            replicationWarningMinutes: number;
        };
        ConsoleSettingsSchema: {
            replicationWarningMinutes: number;
        };
        ContainerSchema: {
            containerId: string;
            /** @enum {string} */
            health?: "starting" | "healthy" | "unhealthy" | "none";
            service: string;
            /** @enum {string} */
            state: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
        };
        CreatedDeviceSchema: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description The device token: shown this once, never again. */
            token: string;
        };
        CreateDeviceDto: {
            /** @description Empty or absent: the device gives its own name (DEVICE_NAME or host name) when it connects. */
            name?: string;
        };
        DatabaseHealthSchema: {
            /** @description Why the database cannot be read (when ok is false). */
            error?: string;
            ok: boolean;
        };
        DeviceHealthSchema: {
            reason: string;
            /** @enum {string} */
            state: "green" | "amber" | "red";
        };
        DeviceSchema: {
            authenticated: boolean;
            /** Format: date-time */
            createdAt: string;
            health: components["schemas"]["DeviceHealthSchema"];
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            lastSeenAt: string | null;
            /** @description Empty until a device created without a name connects and gives its own. */
            name: string;
            online: boolean;
            /**
             * Format: date-time
             * @description When the latest report.apps arrived.
             */
            reportedAt: string | null;
            version: string | null;
        };
        DeviceWithUpgradeSchema: {
            authenticated: boolean;
            /** Format: date-time */
            createdAt: string;
            health: components["schemas"]["DeviceHealthSchema"];
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            lastSeenAt: string | null;
            /** @description Empty until a device created without a name connects and gives its own. */
            name: string;
            online: boolean;
            /**
             * Format: date-time
             * @description When the latest report.apps arrived.
             */
            reportedAt: string | null;
            upgrade: components["schemas"]["UpgradeSchema"];
            version: string | null;
        };
        ErrorSchema: {
            /**
             * @description What failed. On any request: 503 DATABASE_UNAVAILABLE (with a Retry-After header) while the Hive's database cannot be reached; retry later, the Hive recovers by itself
             * @example INVALID_PARAMS
             */
            code: string;
            /** @description For INVALID_PARAMS: [{ field, problems }]; for RATE_LIMITED: { retryAfterSeconds } */
            details?: {
                [key: string]: unknown;
            }[] | {
                [key: string]: unknown;
            };
            message: string;
        };
        HiveHealthSchema: {
            database: components["schemas"]["DatabaseHealthSchema"];
            /** @description false (with status 503) when the database cannot be read */
            ok: boolean;
            version: string;
        };
        InstallAppDto: {
            /** @description A catalog app name */
            app: string;
            /** @description The default link's domain */
            domain?: string;
            /** Format: uuid */
            instance?: string;
            /** @description Default: HIVE_COMMAND_TIMEOUT_S */
            timeoutSeconds?: number;
            /** @description The app's declared variables */
            variables?: {
                [key: string]: string;
            };
            /**
             * @description Wait for the result (200), or answer 202 once the device acknowledged
             * @default true
             */
            wait?: boolean;
        };
        InstanceKeySchema: {
            /** @description ASCII-armored private key, protected with the account passphrase (Argon2 + AEAD) */
            encryptedPrivateKey: string;
            /** @description 40 lower-case hex digits */
            fingerprint: string;
            /** @description ASCII-armored OpenPGP public key */
            publicKey: string;
            /** @enum {string} */
            role: "app" | "link";
        };
        LatestReportsSchema: {
            /** @description report.apps (docs/protocol.md §4) */
            apps: {
                [key: string]: unknown;
            } | null;
            receivedAt: {
                [key: string]: string | null;
            };
            /** @description report.version */
            version: {
                [key: string]: unknown;
            } | null;
            /** @description report.volumes */
            volumes: {
                [key: string]: unknown;
            } | null;
        };
        LinkSchema: {
            domain: string;
        };
        LoginDto: {
            password: string;
            username: string;
        };
        LossWindowSchema: {
            ageSeconds: number | null;
            /** Format: date-time */
            lastReplicatedAt: string | null;
            /** Format: date-time */
            reportedAt: string | null;
            volumes: components["schemas"]["LossWindowVolumeSchema"][];
        };
        LossWindowVolumeSchema: {
            /** Format: date-time */
            lastReplicatedAt: string | null;
            name: string;
            role: string;
        };
        MoveAppDto: {
            /**
             * @description Go on without a final replica (the loss window is recorded)
             * @default false
             */
            force?: boolean;
            /**
             * @description Let the new device restore the data ahead while the app still runs (false: stop first, then restore all of it)
             * @default true
             */
            stage?: boolean;
            /** @description Default: HIVE_COMMAND_TIMEOUT_S */
            timeoutSeconds?: number;
            /** Format: uuid */
            to: string;
            /**
             * @description Wait for the result (200), or answer 202 once the device acknowledged
             * @default true
             */
            wait?: boolean;
        };
        MoveSchema: {
            /** Format: date-time */
            createdAt: string;
            /** @description A move that ended running: ms from the source's acknowledged stop to the target's start result */
            downtimeMs: number | null;
            error: components["schemas"]["ErrorSchema"] | null;
            /** Format: date-time */
            finishedAt: string | null;
            force: boolean;
            /** Format: uuid */
            from: string | null;
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            instance: string;
            lossWindow: components["schemas"]["LossWindowSchema"] | null;
            /** @description the source's SchedulerAction.replicate, a staged move's first copy made while the app still ran there */
            precopyCommandId: string | null;
            /** @description the target's SchedulerAction.prepare, when the move was staged */
            prepareCommandId: string | null;
            /** @description A cancelled move: what was done and where the app is left */
            resolution: string | null;
            /**
             * Format: uuid
             * @description A cancelled move: the device where the data is safe and the app now is
             */
            resolvedOn: string | null;
            /** @description the target's second SchedulerAction.prepare, bringing its stage up to date with the first copy (null when none was needed) */
            stageUpdateCommandId: string | null;
            startCommandId: string | null;
            /** @enum {string} */
            state: "staging" | "stopping" | "replicated" | "restoring" | "running" | "failed" | "cancelled";
            stopCommandId: string | null;
            stopError: components["schemas"]["ErrorSchema"] | null;
            /**
             * Format: date-time
             * @description When the source's stop was acknowledged (or skipped): the downtime begins
             */
            stoppedAt: string | null;
            /** Format: uuid */
            to: string;
            /** @description An ended move: ms from the request to its end */
            totalMs: number | null;
            /** Format: date-time */
            updatedAt: string;
        };
        OpenSpecSchema: {
            path?: string;
            port: number;
            service: string;
        };
        PassphraseCheckSchema: {
            /** @description Whether the verifier is the account's. */
            matches: boolean;
        };
        PassphraseSchema: {
            /** Format: byte */
            salt: string;
            set: boolean;
        };
        RenameDeviceDto: {
            name: string;
        };
        ReplicationSchema: {
            error?: string;
            /** @enum {string} */
            state: "idle" | "replicating" | "error";
        };
        RunAppCommandDto: {
            args?: {
                [key: string]: string;
            };
            /** @description A command the app declares in x-mosaic.commands */
            command: string;
            /** @description Default: HIVE_COMMAND_TIMEOUT_S */
            timeoutSeconds?: number;
            /**
             * @description Wait for the result (200), or answer 202 once the device acknowledged
             * @default true
             */
            wait?: boolean;
        };
        SendCommandDto: {
            params?: {
                [key: string]: unknown;
            };
            timeoutSeconds?: number;
            /** @enum {string} */
            type: "SchedulerAction.start" | "SchedulerAction.stop" | "SystemCommand.diskSpace" | "SystemCommand.info" | "AppCommand.run" | "UpgradeCommand.run" | "SchedulerAction.prepare" | "SchedulerAction.replicate";
            /** @default true */
            wait?: boolean;
        };
        SessionStatusSchema: {
            /** @description Send it back as X-CSRF-Token on every change. */
            csrfToken: string | null;
            /** @description No operator account yet: the first run is due. */
            setupRequired: boolean;
            username: string | null;
        };
        SetPassphraseDto: {
            /**
             * @description Replace a set verifier (every device must prove the new passphrase)
             * @default false
             */
            replace?: boolean;
            /**
             * Format: byte
             * @description scrypt(passphrase, salt, N=131072, r=8, p=1, 32 bytes)
             */
            verifier: string;
        };
        SetupDto: {
            /** @description The Hive's HIVE_ADMIN_TOKEN: only the operator has it. */
            adminToken: string;
            password: string;
            username: string;
        };
        StartAppDto: {
            /** @description Default: HIVE_COMMAND_TIMEOUT_S */
            timeoutSeconds?: number;
            /**
             * @description Wait for the result (200), or answer 202 once the device acknowledged
             * @default true
             */
            wait?: boolean;
        };
        StopAppDto: {
            /** @default false */
            remove?: boolean;
            /** @default true */
            replicate?: boolean;
            /** @description Default: HIVE_COMMAND_TIMEOUT_S */
            timeoutSeconds?: number;
            /**
             * @description Wait for the result (200), or answer 202 once the device acknowledged
             * @default true
             */
            wait?: boolean;
        };
        UpgradeAttemptSchema: {
            commandId: string | null;
            /** Format: date-time */
            finishedAt: string | null;
            /** @description The version the device reported when the attempt was made. */
            fromVersion: string;
            id: string;
            /** @enum {string} */
            outcome: "pending" | "started" | "succeeded" | "rolled_back" | "failed";
            /** @description Why it was rolled back or failed. */
            reason?: components["schemas"]["ErrorSchema"];
            /** Format: date-time */
            requestedAt: string;
            /**
             * @description hive: a report.version of an older version; api: POST …/upgrade
             * @enum {string}
             */
            requestedBy: "hive" | "api";
            targetImage: string | null;
            targetVersion: string;
        };
        UpgradeSchema: {
            attempts: components["schemas"]["UpgradeAttemptSchema"][];
            currentVersion: string;
            /** Format: date-time */
            lastAttemptAt: string | null;
            lastCommandId: string | null;
            lastError?: components["schemas"]["ErrorSchema"];
            /** @enum {string|null} */
            lastStatus: "sent" | "accepted" | "refused" | "succeeded" | "failed" | "timeout" | "not_sent" | null;
            /** @enum {string|null} */
            outcome: "pending" | "started" | "succeeded" | "rolled_back" | "failed" | null;
            reportedVersion: string | null;
            /** @description Versions this device rolled back: never tried there again by the Hive itself. */
            rolledBack: string[];
            /** @description The image devices upgrade to; null: each its own repository at currentVersion. */
            targetImage: string | null;
        };
        VariableSpecSchema: {
            default?: string;
            description: string;
            /** @description RE2 syntax; the whole value must match */
            pattern?: string;
            required?: boolean;
            /** @description Never shown back once given */
            secret?: boolean;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    Account_describe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Account_setPassphrase: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SetPassphraseDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Account_check: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CheckPassphraseDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PassphraseCheckSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Apps_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Apps_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Apps_runCommand: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RunAppCommandDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppCommandOutcomeSchema"];
                };
            };
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppCommandOutcomeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    AppKeys_list: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceKeySchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Moves_move: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MoveAppDto"];
            };
        };
        responses: {
            /** @description The move ended (running or failed) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MoveSchema"];
                };
            };
            /** @description The move goes on */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MoveSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Moves_list: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MoveSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Apps_start: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["StartAppDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Apps_stop: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                instance: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["StopAppDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Catalog_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CatalogAppSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Catalog_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                app: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CatalogAppWithComposeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateDeviceDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedDeviceSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceWithUpgradeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_revoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_rename: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RenameDeviceDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceApps_list: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceApps_install: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InstallAppDto"];
            };
        };
        responses: {
            /** @description The start ended otherwise: see command.error */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            /** @description The start succeeded */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            /** @description The device still works on it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AppOutcomeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceCommands_list: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommandSchema"][];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceCommands_send: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendCommandDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommandSchema"];
                };
            };
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommandSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceCommands_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                commandId: string;
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommandSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    DeviceReports_latest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LatestReportsSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_upgrade: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UpgradeSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Devices_requestUpgrade: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** @description the image to run, of the device’s own repository; default HIVE_DEVICE_IMAGE */
                    image?: string;
                    /** @description the Device version to reach (semver); default HIVE_DEVICE_VERSION */
                    version?: string;
                };
            };
        };
        responses: {
            /** @description The attempt; GET …/upgrade follows its outcome. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UpgradeAttemptSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Health_health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HiveHealthSchema"];
                };
            };
            /** @description The database cannot be read. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HiveHealthSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Moves_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                moveId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MoveSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Moves_cancel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                moveId: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The move, cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MoveSchema"];
                };
            };
            /** @description MOVE_FINISHED: the move ended already; MOVE_IN_PROGRESS: another Hive process runs it and did not hand it over in time */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Session_status: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionStatusSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Session_login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionStatusSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Session_logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Session_setup: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SetupDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionStatusSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Settings_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConsoleSettingsSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Settings_update: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ConsoleSettingsDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConsoleSettingsSchema"];
                };
            };
            /** @description An error: { code, message, details? } */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorSchema"];
                };
            };
        };
    };
    Metrics_metricsText: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
