import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsBoolean,
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
import { IsIsoUtc, IsOptionalNotNull, IsProtocolUuid, Patterns } from './constraints';

/** Docker's own container state words. */
export const CONTAINER_STATES = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const;
export const CONTAINER_HEALTH = ['starting', 'healthy', 'unhealthy', 'none'] as const;

/** §2: `Container`. */
export class ContainerDto {
  @IsString()
  @Length(1, 128)
  service!: string;

  @IsString()
  @Length(1, 128)
  containerId!: string;

  @IsIn(CONTAINER_STATES)
  state!: (typeof CONTAINER_STATES)[number];

  @IsOptionalNotNull()
  @IsIn(CONTAINER_HEALTH)
  health?: (typeof CONTAINER_HEALTH)[number];
}

export class StartResultDto {
  @IsProtocolUuid()
  instance!: string;

  @Equals('running')
  state!: 'running';

  @IsArray()
  @ArrayMaxSize(256)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ContainerDto)
  containers!: ContainerDto[];
}

export class ReplicatedVolumeDto {
  @IsString()
  @Length(1, 255)
  name!: string;

  @ValidateIf((_o, v) => v !== null)
  @IsIsoUtc()
  lastReplicatedAt!: string | null;
}

/** §2.8: the snapshot just made of each volume, the app still running. */
export class ReplicateResultDto {
  @IsProtocolUuid()
  instance!: string;

  @IsArray()
  @ArrayMaxSize(16)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => ReplicatedVolumeDto)
  volumes!: ReplicatedVolumeDto[];
}

/** §2.4: each volume after the final replication (as a replicate answers), and the state. */
export class StopResultDto extends ReplicateResultDto {
  @Equals('stopped')
  state!: 'stopped';
}

/** §2.7: what a stage left ready, per volume. */
export class StagedVolumeDto {
  @IsString()
  @Length(1, 255)
  name!: string;

  /** The snapshot staged, or null when the replica has no data yet (nothing to stage). */
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Matches(/^[0-9a-f]{8,64}$/)
  snapshot!: string | null;

  @ValidateIf((_o, v) => v !== null)
  @IsIsoUtc()
  snapshotAt!: string | null;

  @IsInt()
  @Min(0)
  bytes!: number;
}

export class PrepareResultDto {
  @IsProtocolUuid()
  instance!: string;

  @IsArray()
  @ArrayMaxSize(16)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => StagedVolumeDto)
  staged!: StagedVolumeDto[];
}

export class DiskPathDto {
  @IsString()
  @Length(1, 4096)
  path!: string;

  @IsInt()
  @Min(0)
  totalBytes!: number;

  @IsInt()
  @Min(0)
  freeBytes!: number;

  @IsInt()
  @Min(0)
  availableBytes!: number;
}

export class DiskSpaceResultDto {
  @IsArray()
  @ArrayMaxSize(64)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => DiskPathDto)
  paths!: DiskPathDto[];
}

export class InfoResultDto {
  @IsString() hostname!: string;
  @IsString() os!: string;
  @IsString() arch!: string;
  @IsInt() @Min(1) cpus!: number;
  @IsInt() @Min(0) memoryBytes!: number;
  @IsString() deviceVersion!: string;
  @IsString() dockerVersion!: string;
  @IsString() composeVersion!: string;
  @IsString() storagePluginVersion!: string;
}

export class AppCommandResultDto {
  @IsInt()
  exitCode!: number;

  @IsString()
  stdout!: string;

  @IsString()
  stderr!: string;

  @IsBoolean()
  truncated!: boolean;
}

export class UpdaterDto {
  @IsString() image!: string;
  @IsString() containerId!: string;
}

export class UpgradeResultDto {
  @IsObject()
  @ValidateNested()
  @Type(() => UpdaterDto)
  updater!: UpdaterDto;

  @IsArray()
  @IsString({ each: true })
  targets!: string[];

  /** The version the device now runs, healthy and reported: only for a command that named a target (§2.6). */
  @IsOptionalNotNull()
  @IsString()
  @Matches(Patterns.semver, { message: 'version must be a semantic version' })
  version?: string;

  /** The image it now runs from, with `version`. */
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 512)
  image?: string;
}
