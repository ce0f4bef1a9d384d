import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Length,
  Matches,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ApplicationDto, STOP_REASONS, StopReason } from './command-params.dto';
import { ContainerDto } from './command-results.dto';
import { IsIsoUtc, IsOptionalNotNull, IsProtocolUuid, Patterns } from './constraints';
import { KEY_ROLES, KeyRole } from './keys.dto';

export const APP_STATES = ['starting', 'running', 'degraded', 'stopped', 'failed'] as const;
export type AppState = (typeof APP_STATES)[number];

export class AppReportDto {
  @IsProtocolUuid()
  instance!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => ApplicationDto)
  application!: ApplicationDto;

  @IsIn(APP_STATES)
  state!: AppState;

  @IsArray()
  @ArrayMaxSize(256)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ContainerDto)
  containers!: ContainerDto[];

  /** Why this copy was stopped: the `reason` of the Hive's SchedulerAction.stop (§4, v1 + 2026-12-06). */
  @IsOptionalNotNull()
  @IsIn(STOP_REASONS)
  reason?: StopReason;
}

/** §4: report.apps */
export class ReportAppsDto {
  @IsIsoUtc()
  at!: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AppReportDto)
  apps!: AppReportDto[];
}

export const REPLICATION_STATES = ['idle', 'replicating', 'error'] as const;

export class ReplicationStateDto {
  @IsIn(REPLICATION_STATES)
  state!: (typeof REPLICATION_STATES)[number];

  @IsOptionalNotNull()
  @IsString()
  @Length(0, 4096)
  error?: string;
}

export class VolumeReportDto {
  @IsString()
  @Length(1, 255)
  name!: string;

  @IsProtocolUuid()
  instance!: string;

  @IsIn(KEY_ROLES)
  role!: KeyRole;

  @Matches(Patterns.fingerprint, { message: 'fingerprint must be 40 lower-case hex digits' })
  fingerprint!: string;

  @IsString()
  @Length(1, 16384)
  publicKey!: string;

  @ValidateIf((_o, v) => v !== null)
  @IsIsoUtc()
  lastReplicatedAt!: string | null;

  @IsObject()
  @ValidateNested()
  @Type(() => ReplicationStateDto)
  replication!: ReplicationStateDto;

  @IsInt()
  @Min(0)
  sizeBytes!: number;
}

/** §4: report.volumes */
export class ReportVolumesDto {
  @IsIsoUtc()
  at!: string;

  @IsArray()
  @ArrayMaxSize(2000)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => VolumeReportDto)
  volumes!: VolumeReportDto[];
}

/** §4: report.version */
export class ReportVersionDto {
  @IsIsoUtc()
  at!: string;

  @IsString()
  @Matches(Patterns.semver, { message: 'version must be a semantic version' })
  version!: string;

  @IsOptionalNotNull()
  @IsString()
  @Length(1, 512)
  image?: string;

  @Equals(true)
  autoUpdate!: true;
}
