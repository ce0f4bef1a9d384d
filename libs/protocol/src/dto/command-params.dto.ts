import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsObject,
  IsString,
  Length,
  Matches,
  MinLength,
  ValidateNested,
} from 'class-validator';
import {
  IsHostName,
  IsProtocolUuid,
  HasNoFields,
  IsOptionalNotNull,
  IsRecordOf,
  charLength,
  MaxUtf8Bytes,
  Patterns,
  isReservedVariable,
  nestedDto,
} from './constraints';

/** §2.4: why a Hive stops a copy of an app that is no longer this device's. */
export const STOP_REASONS = ['moved', 'removed'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export const LIMITS = {
  composeBytes: 256 * 1024,
  tokenChars: 512,
  variableValueChars: 4096,
  variables: 256,
  links: 16,
  appCommandArgs: 32,
  appCommandArgChars: 4096,
  imageChars: 512,
} as const;

export class ApplicationDto {
  @IsString()
  @Length(1, 128)
  @Matches(Patterns.printable, { message: 'appstore must be printable ASCII' })
  appstore!: string;

  @IsString()
  @Matches(Patterns.appName, { message: 'name must match ^[a-z0-9][a-z0-9-]{0,62}$' })
  name!: string;

  @IsString()
  @Matches(Patterns.appVersion, { message: 'version must match ^[A-Za-z0-9._-]{1,64}$' })
  version!: string;
}

export class LinkDto {
  @IsHostName()
  domain!: string;

  @IsString()
  @Length(1, LIMITS.tokenChars)
  @Matches(Patterns.printable, { message: 'token must be printable ASCII' })
  token!: string;
}

function variableValueProblem(value: unknown, key: string): string | null {
  if (isReservedVariable(key)) return 'is reserved: the device sets it';
  if (typeof value !== 'string') return 'must be a string';
  if (charLength(value) > LIMITS.variableValueChars) return `must be at most ${LIMITS.variableValueChars} characters`;
  if (value.includes('\0')) return 'must not contain NUL';
  return null;
}

/** §2.1 */
export class SchedulerStartParamsDto {
  @IsProtocolUuid()
  instance!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => ApplicationDto)
  application!: ApplicationDto;

  @IsString()
  @MinLength(1)
  @MaxUtf8Bytes(LIMITS.composeBytes)
  @Matches(/^[^\0]*$/, { message: 'compose must not contain NUL' })
  compose!: string;

  @IsRecordOf({
    key: Patterns.linkName,
    keyHint: 'must match ^[a-z][a-z0-9_]{0,31}$',
    maxKeys: LIMITS.links,
    value: nestedDto(LinkDto),
  })
  links!: Record<string, LinkDto>;

  @IsRecordOf({
    key: Patterns.variableName,
    keyHint: 'must match ^[A-Z][A-Z0-9_]{0,63}$',
    maxKeys: LIMITS.variables,
    value: variableValueProblem,
  })
  variables!: Record<string, string>;

  @IsBoolean()
  failover!: boolean;
}

/** §2: SchedulerAction.stop */
export class SchedulerStopParamsDto {
  @IsProtocolUuid()
  instance!: string;

  @IsOptionalNotNull()
  @IsBoolean()
  replicate?: boolean;

  @IsOptionalNotNull()
  @IsBoolean()
  remove?: boolean;

  /**
   * §2.4: why the Hive stops this copy (v1 + 2026-12-06): the app moved to another device, or was
   * removed. Sent only to devices that understand it (§10: device 0.1.0).
   */
  @IsOptionalNotNull()
  @IsIn(STOP_REASONS)
  reason?: StopReason;
}

/**
 * §2.8 SchedulerAction.replicate: a snapshot of the instance's volumes now, while the app goes on
 * running (a move's first copy, so that its stop has little left to replicate). Sent only to
 * devices that know it (§10: device 0.1.0); an older device answers UNKNOWN_COMMAND and the move
 * goes on without it.
 */
export class SchedulerReplicateParamsDto {
  @IsProtocolUuid()
  instance!: string;
}

/**
 * §2.7 SchedulerAction.prepare: stage a move to this device (the instance's replicas restored
 * ahead, nothing claimed), or with `discard` drop such a stage. Sent only to devices that know it
 * (§10: device 0.1.0); an older device answers UNKNOWN_COMMAND and the move goes on unstaged.
 */
export class SchedulerPrepareParamsDto {
  @IsProtocolUuid()
  instance!: string;

  @IsOptionalNotNull()
  @IsBoolean()
  discard?: boolean;

  /**
   * v1 + 2026-12-07 (device 0.1.0): the params of the failover start that will follow, so the
   * device checks its compose and policy now, while the app still runs elsewhere, and that start
   * (with exactly these params) need not check them again. Not with `discard`.
   */
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => SchedulerStartParamsDto)
  start?: SchedulerStartParamsDto;
}

/** SystemCommand.diskSpace, SystemCommand.info: no params at all. */
export class EmptyParamsDto {
  /** A class without rules cannot be validated strictly; this rule is "no fields at all". */
  @HasNoFields()
  private readonly none?: never;
}

/**
 * §2.6 UpgradeCommand.run: the target, both fields optional (`{}` is v1's "update what runs").
 * Sent only to devices that understand them (§10: device 0.1.0).
 */
export class UpgradeParamsDto {
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 64)
  @Matches(Patterns.semver, { message: 'version must be a semantic version' })
  version?: string;

  @IsOptionalNotNull()
  @IsString()
  @Length(1, LIMITS.imageChars)
  @Matches(Patterns.imageRef, { message: 'image must be an image reference such as registry.example/mosaic/device:1.2.0' })
  image?: string;
}

/** §2.3 */
export class AppCommandRunParamsDto {
  @IsProtocolUuid()
  instance!: string;

  @IsString()
  @Matches(Patterns.appCommandName, { message: 'command must match ^[a-z0-9][a-z0-9_.-]{0,63}$' })
  command!: string;

  @IsOptionalNotNull()
  @IsRecordOf({
    key: Patterns.argName,
    keyHint: 'must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$',
    maxKeys: LIMITS.appCommandArgs,
    value: (v) =>
      typeof v !== 'string'
        ? 'must be a string'
        : charLength(v) > LIMITS.appCommandArgChars
          ? `must be at most ${LIMITS.appCommandArgChars} characters`
          : v.includes('\0')
            ? 'must not contain NUL'
            : null,
  })
  args?: Record<string, string>;
}
