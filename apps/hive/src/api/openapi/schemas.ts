// The REST API's response shapes for @nestjs/swagger. Each class `implements` the interface the
// service returns, so the compiler holds the OpenAPI description to what the API really sends.
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  APP_STATES,
  CONTAINER_HEALTH,
  CONTAINER_STATES,
  KEY_ROLES,
  REPLICATION_STATES,
  type AppState,
  type ProtocolError,
} from '@mosaic/protocol';
import type { DeviceHealth, HealthState } from '@mosaic/hive-api';
import type { AccountView } from '../../accounts/account.service';
import type { AppView, AppVolumeView } from '../../apps/apps.service';
import type { CatalogAppView } from '../../apps/catalog.service';
import type { CommandView } from '../../commands/commands.service';
import type { CommandAck, CommandStatus } from '../../commands/command.repository';
import type { SessionStatus } from '../../console-auth/console-auth.service';
import type { UpgradeOutcome, UpgradeRequester } from '../../upgrades/upgrade.repository';
import type { InstanceKey } from '../../keys/key.repository';
import type { CreatedDevice, DeviceView } from '../../devices/devices.service';
import { MOVE_STATES } from '../../moves/move.repository';
import type { LossWindow, MoveState } from '../../moves/move.repository';
import type { MoveView } from '../../moves/move.service';
import type { ConsoleSettingsView } from '../../settings/console-settings.service';
import type { UpgradeAttemptView, UpgradeStatus, UpgradeView } from '../../upgrades/device-upgrade.service';

const COMMAND_STATUSES: CommandStatus[] = ['sent', 'accepted', 'refused', 'succeeded', 'failed', 'timeout'];
const nullableString = { type: String, nullable: true } as const;
const nullableTime = { type: String, format: 'date-time', nullable: true } as const;
const time = { type: String, format: 'date-time' } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class ErrorSchema implements ProtocolError {
  @ApiProperty({
    type: String,
    example: 'INVALID_PARAMS',
    description:
      "What failed. On any request: 503 DATABASE_UNAVAILABLE (with a Retry-After header) while the Hive's database cannot be reached; retry later, the Hive recovers by itself",
  })
  code!: ProtocolError['code'];
  @ApiProperty() message!: string;
  @ApiPropertyOptional({
    oneOf: [
      { type: 'array', items: { type: 'object', additionalProperties: true } },
      { type: 'object', additionalProperties: true },
    ],
    description: 'For INVALID_PARAMS: [{ field, problems }]; for RATE_LIMITED: { retryAfterSeconds }',
  })
  details?: unknown;
}

export class DatabaseHealthSchema {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ required: false, description: 'Why the database cannot be read (when ok is false).' }) error?: string;
}

export class HiveHealthSchema {
  @ApiProperty({ description: 'false (with status 503) when the database cannot be read' }) ok!: boolean;
  @ApiProperty() version!: string;
  @ApiProperty({ type: DatabaseHealthSchema }) database!: DatabaseHealthSchema;
}

export class SessionStatusSchema implements SessionStatus {
  @ApiProperty({ description: 'No operator account yet: the first run is due.' }) setupRequired!: boolean;
  @ApiProperty(nullableString) username!: string | null;
  @ApiProperty({ ...nullableString, description: 'Send it back as X-CSRF-Token on every change.' }) csrfToken!: string | null;
}

export class ConsoleSettingsSchema implements ConsoleSettingsView {
  @ApiProperty({ minimum: 1 }) replicationWarningMinutes!: number;
}

export class PassphraseSchema {
  @ApiProperty({ format: 'byte' }) salt!: string;
  @ApiProperty() set!: boolean;
}

export class AccountSchema implements AccountView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: PassphraseSchema }) passphrase!: PassphraseSchema;
}

export class PassphraseCheckSchema {
  @ApiProperty({ description: "Whether the verifier is the account's." }) matches!: boolean;
}

export class DeviceHealthSchema implements DeviceHealth {
  @ApiProperty({ enum: ['green', 'amber', 'red'] }) state!: HealthState;
  @ApiProperty() reason!: string;
}

export class DeviceSchema implements DeviceView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Empty until a device created without a name connects and gives its own.' }) name!: string;
  @ApiProperty() online!: boolean;
  @ApiProperty() authenticated!: boolean;
  @ApiProperty(nullableTime) lastSeenAt!: string | null;
  @ApiProperty(nullableString) version!: string | null;
  @ApiProperty(time) createdAt!: string;
  @ApiProperty({ ...nullableTime, description: 'When the latest report.apps arrived.' }) reportedAt!: string | null;
  @ApiProperty({ type: DeviceHealthSchema }) health!: DeviceHealthSchema;
}

export class CreatedDeviceSchema implements CreatedDevice {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The device token: shown this once, never again.' }) token!: string;
}

const UPGRADE_OUTCOMES: UpgradeOutcome[] = ['pending', 'started', 'succeeded', 'rolled_back', 'failed'];

export class UpgradeAttemptSchema implements UpgradeAttemptView {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ enum: ['hive', 'api'], description: 'hive: a report.version of an older version; api: POST …/upgrade' })
  requestedBy!: UpgradeRequester;
  @ApiProperty({ description: 'The version the device reported when the attempt was made.' }) fromVersion!: string;
  @ApiProperty() targetVersion!: string;
  @ApiProperty(nullableString) targetImage!: string | null;
  @ApiProperty(nullableString) commandId!: string | null;
  @ApiProperty({ enum: UPGRADE_OUTCOMES }) outcome!: UpgradeOutcome;
  @ApiPropertyOptional({ type: ErrorSchema, description: 'Why it was rolled back or failed.' }) reason?: ErrorSchema;
  @ApiProperty(nullableTime) finishedAt!: string | null;
}

export class UpgradeSchema implements UpgradeView {
  @ApiProperty() currentVersion!: string;
  @ApiProperty({ ...nullableString, description: 'The image devices upgrade to; null: each its own repository at currentVersion.' })
  targetImage!: string | null;
  @ApiProperty(nullableString) reportedVersion!: string | null;
  @ApiProperty(nullableTime) lastAttemptAt!: string | null;
  @ApiProperty(nullableString) lastCommandId!: string | null;
  @ApiProperty({ enum: [...COMMAND_STATUSES, 'not_sent'], nullable: true }) lastStatus!: UpgradeStatus | null;
  @ApiPropertyOptional({ type: ErrorSchema }) lastError?: ErrorSchema;
  @ApiProperty({ enum: UPGRADE_OUTCOMES, nullable: true }) outcome!: UpgradeOutcome | null;
  @ApiProperty({ type: [String], description: 'Versions this device rolled back: never tried there again by the Hive itself.' })
  rolledBack!: string[];
  @ApiProperty({ type: [UpgradeAttemptSchema] }) attempts!: UpgradeAttemptSchema[];
}

export class DeviceWithUpgradeSchema extends DeviceSchema {
  @ApiProperty({ type: UpgradeSchema }) upgrade!: UpgradeSchema;
}

export class CommandAckSchema implements CommandAck {
  @ApiProperty() accepted!: boolean;
  @ApiPropertyOptional({ enum: [true] }) duplicate?: true;
  @ApiPropertyOptional({ type: ErrorSchema }) error?: ErrorSchema;
}

export class CommandProgressSchema {
  @ApiProperty() stage!: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 100 }) percent?: number;
  @ApiPropertyOptional() message?: string;
  @ApiProperty(time) at!: string;
}

export class CommandSchema implements CommandView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ enum: COMMAND_STATUSES }) status!: CommandStatus;
  @ApiProperty(time) issuedAt!: string;
  @ApiProperty({ type: CommandAckSchema, nullable: true }) ack!: CommandAckSchema | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "The type's result (docs/protocol.md §2)" })
  result?: Record<string, unknown>;
  @ApiPropertyOptional({ type: ErrorSchema }) error?: ErrorSchema;
  @ApiPropertyOptional(time) finishedAt?: string;
  @ApiPropertyOptional({ type: CommandProgressSchema }) progress?: CommandProgressSchema;
}

export class LatestReportsSchema {
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'report.apps (docs/protocol.md §4)' })
  apps!: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'report.volumes' })
  volumes!: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'report.version' })
  version!: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', format: 'date-time', nullable: true } })
  receivedAt!: Record<string, string | null>;
}

export class ApplicationSchema {
  @ApiProperty() appstore!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
}

export class ContainerSchema {
  @ApiProperty() service!: string;
  @ApiProperty() containerId!: string;
  @ApiProperty({ enum: CONTAINER_STATES }) state!: (typeof CONTAINER_STATES)[number];
  @ApiPropertyOptional({ enum: CONTAINER_HEALTH }) health?: (typeof CONTAINER_HEALTH)[number];
}

export class ReplicationSchema {
  @ApiProperty({ enum: REPLICATION_STATES }) state!: (typeof REPLICATION_STATES)[number];
  @ApiPropertyOptional() error?: string;
}

export class AppVolumeSchema implements AppVolumeView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_ROLES }) role!: string;
  @ApiProperty() fingerprint!: string;
  @ApiProperty() publicKey!: string;
  @ApiProperty(nullableTime) lastReplicatedAt!: string | null;
  @ApiProperty({ type: ReplicationSchema }) replication!: ReplicationSchema;
  @ApiProperty() sizeBytes!: number;
}

export class LinkSchema {
  @ApiProperty() domain!: string;
}

export class AppSchema implements AppView {
  @ApiProperty({ format: 'uuid' }) instance!: string;
  @ApiProperty({ ...nullableString, format: 'uuid', description: 'null once its device was revoked' }) deviceId!: string | null;
  @ApiProperty({ type: ApplicationSchema }) application!: ApplicationSchema;
  @ApiProperty({ enum: ['running', 'stopped'] }) desired!: 'running' | 'stopped';
  @ApiProperty({ enum: [...APP_STATES, 'unknown'] }) state!: AppState | 'unknown';
  @ApiProperty({ type: [ContainerSchema] }) containers!: ContainerSchema[];
  @ApiProperty({ type: [AppVolumeSchema] }) volumes!: AppVolumeSchema[];
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(LinkSchema) } }) links!: Record<string, LinkSchema>;
  @ApiProperty({ ...stringMap, description: 'Without the variables the catalog marks secret' }) variables!: Record<string, string>;
  @ApiProperty(nullableTime) reportedAt!: string | null;
  @ApiProperty(time) createdAt!: string;
  @ApiProperty(time) updatedAt!: string;
}

export class AppOutcomeSchema {
  @ApiProperty({ format: 'uuid' }) instance!: string;
  @ApiProperty({ type: AppSchema, nullable: true, description: 'null once a stop with remove took the app away' }) app!: AppSchema | null;
  @ApiProperty({ type: CommandSchema }) command!: CommandSchema;
}

export class AppCommandOutcomeSchema {
  @ApiProperty({ format: 'uuid' }) instance!: string;
  @ApiProperty({ type: CommandSchema }) command!: CommandSchema;
}

export class VariableSpecSchema {
  @ApiProperty() description!: string;
  @ApiPropertyOptional() required?: boolean;
  @ApiPropertyOptional() default?: string;
  @ApiPropertyOptional({ description: 'RE2 syntax; the whole value must match' }) pattern?: string;
  @ApiPropertyOptional({ description: 'Never shown back once given' }) secret?: boolean;
}

export class OpenSpecSchema {
  @ApiProperty() service!: string;
  @ApiProperty() port!: number;
  @ApiPropertyOptional() path?: string;
}

export class CommandArgSchema {
  @ApiProperty() pattern!: string;
}

export class AppCommandSpecSchema {
  @ApiProperty() service!: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(CommandArgSchema) } }) args!: Record<string, CommandArgSchema>;
}

export class CatalogAppSchema implements CatalogAppView {
  @ApiProperty() name!: string;
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() version!: string;
  @ApiProperty() offline!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(VariableSpecSchema) } })
  variables!: Record<string, VariableSpecSchema>;
  @ApiPropertyOptional({ type: OpenSpecSchema }) open?: OpenSpecSchema;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(AppCommandSpecSchema) } })
  commands!: Record<string, AppCommandSpecSchema>;
}

export class CatalogAppWithComposeSchema extends CatalogAppSchema {
  @ApiProperty({ description: 'The compose template' }) compose!: string;
}

export class LossWindowVolumeSchema {
  @ApiProperty() name!: string;
  @ApiProperty() role!: string;
  @ApiProperty(nullableTime) lastReplicatedAt!: string | null;
}

export class LossWindowSchema implements LossWindow {
  @ApiProperty(nullableTime) lastReplicatedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) ageSeconds!: number | null;
  @ApiProperty(nullableTime) reportedAt!: string | null;
  @ApiProperty({ type: [LossWindowVolumeSchema] }) volumes!: LossWindowVolumeSchema[];
}

export class MoveSchema implements MoveView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) instance!: string;
  @ApiProperty({ ...nullableString, format: 'uuid' }) from!: string | null;
  @ApiProperty({ format: 'uuid' }) to!: string;
  @ApiProperty() force!: boolean;
  @ApiProperty({ enum: MOVE_STATES }) state!: MoveState;
  @ApiProperty({ type: ErrorSchema, nullable: true }) error!: ErrorSchema | null;
  @ApiProperty({ type: ErrorSchema, nullable: true }) stopError!: ErrorSchema | null;
  @ApiProperty({ type: LossWindowSchema, nullable: true }) lossWindow!: LossWindowSchema | null;
  @ApiProperty({ ...nullableString, description: "the source's SchedulerAction.replicate, a staged move's first copy made while the app still ran there" })
  precopyCommandId!: string | null;
  @ApiProperty({ ...nullableString, description: "the target's SchedulerAction.prepare, when the move was staged" }) prepareCommandId!: string | null;
  @ApiProperty({ ...nullableString, description: "the target's second SchedulerAction.prepare, bringing its stage up to date with the first copy (null when none was needed)" })
  stageUpdateCommandId!: string | null;
  @ApiProperty(nullableString) stopCommandId!: string | null;
  @ApiProperty(nullableString) startCommandId!: string | null;
  @ApiProperty(time) createdAt!: string;
  @ApiProperty(time) updatedAt!: string;
  @ApiProperty(nullableTime) finishedAt!: string | null;
  @ApiProperty({ ...nullableString, format: 'uuid', description: 'A cancelled move: the device where the data is safe and the app now is' })
  resolvedOn!: string | null;
  @ApiProperty({ ...nullableString, description: 'A cancelled move: what was done and where the app is left' }) resolution!: string | null;
  @ApiProperty({ ...nullableTime, description: "When the source's stop was acknowledged (or skipped): the downtime begins" })
  stoppedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: "A move that ended running: ms from the source's acknowledged stop to the target's start result" })
  downtimeMs!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'An ended move: ms from the request to its end' }) totalMs!: number | null;
}

/** Schemas only reached through additionalProperties $refs: registered with the document explicitly. */
export const EXTRA_MODELS = [LinkSchema, VariableSpecSchema, CommandArgSchema, AppCommandSpecSchema, ErrorSchema];

export class InstanceKeySchema implements InstanceKey {
  @ApiProperty({ enum: KEY_ROLES }) role!: InstanceKey['role'];
  @ApiProperty({ description: '40 lower-case hex digits' }) fingerprint!: string;
  @ApiProperty({ description: 'ASCII-armored OpenPGP public key' }) publicKey!: string;
  @ApiProperty({ description: 'ASCII-armored private key, protected with the account passphrase (Argon2 + AEAD)' })
  encryptedPrivateKey!: string;
}
