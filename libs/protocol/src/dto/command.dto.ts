import { Type } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsInt,
  IsObject,
  IsString,
  Length,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsAbsentUnless, IsIsoUtc, IsOptionalNotNull, IsProtocolUuid } from './constraints';
import { ProtocolErrorDto } from './error.dto';

/** §2: the envelope of every command. `params` is checked by the type's own DTO. */
export class CommandEnvelopeDto {
  @IsProtocolUuid()
  id!: string;

  @IsString()
  @Length(1, 64)
  type!: string;

  @IsIsoUtc()
  issuedAt!: string;

  @IsObject()
  params!: Record<string, unknown>;
}

/** §2: the immediate acknowledgement of a command. */
export class CommandAckDto {
  @IsString()
  id!: string;

  @IsBoolean()
  accepted!: boolean;

  @IsOptionalNotNull()
  @Equals(true)
  @IsAbsentUnless((o: CommandAckDto) => o.accepted !== false, 'accepted is true')
  duplicate?: true;

  /** Required when accepted is false, refused when it is true. */
  @ValidateIf((o: CommandAckDto) => o.accepted === false || o.error !== undefined)
  @IsAbsentUnless((o: CommandAckDto) => o.accepted !== true, 'accepted is false')
  @IsObject()
  @ValidateNested()
  @Type(() => ProtocolErrorDto)
  error?: ProtocolErrorDto;
}

/** §2: the end of a command's work. `result` is checked by the type's result DTO. */
export class CommandResultDto {
  @IsProtocolUuid()
  id!: string;

  @IsString()
  @Length(1, 64)
  type!: string;

  @IsBoolean()
  ok!: boolean;

  /** Required when ok is true, refused when it is false. */
  @ValidateIf((o: CommandResultDto) => o.ok === true || o.result !== undefined)
  @IsAbsentUnless((o: CommandResultDto) => o.ok !== false, 'ok is true')
  @IsObject()
  result?: Record<string, unknown>;

  /** Required when ok is false, refused when it is true. */
  @ValidateIf((o: CommandResultDto) => o.ok === false || o.error !== undefined)
  @IsAbsentUnless((o: CommandResultDto) => o.ok !== true, 'ok is false')
  @IsObject()
  @ValidateNested()
  @Type(() => ProtocolErrorDto)
  error?: ProtocolErrorDto;

  @IsIsoUtc()
  finishedAt!: string;
}

/** §2: progress of long work. */
export class CommandProgressDto {
  @IsProtocolUuid()
  id!: string;

  @IsString()
  @Length(1, 64)
  stage!: string;

  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100)
  percent?: number;

  @IsOptionalNotNull()
  @IsString()
  @Length(0, 1024)
  message?: string;
}

/** The acknowledgement of a report, a result or a key operation. */
export class OkAckDto {
  @IsBoolean()
  ok!: boolean;

  /** Required when ok is false, refused when it is true. */
  @ValidateIf((o: OkAckDto) => o.ok === false || o.error !== undefined)
  @IsAbsentUnless((o: OkAckDto) => o.ok !== true, 'ok is false')
  @IsObject()
  @ValidateNested()
  @Type(() => ProtocolErrorDto)
  error?: ProtocolErrorDto;
}
