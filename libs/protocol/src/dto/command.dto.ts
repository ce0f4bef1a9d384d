import { Type } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsIsoUtc, IsProtocolUuid } from './constraints';
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

  @IsOptional()
  @Equals(true)
  duplicate?: true;

  @ValidateIf((o: CommandAckDto) => o.accepted === false)
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

  @ValidateIf((o: CommandResultDto) => o.ok === true)
  @IsObject()
  result?: Record<string, unknown>;

  @ValidateIf((o: CommandResultDto) => o.ok === false)
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

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  percent?: number;

  @IsOptional()
  @IsString()
  @Length(0, 1024)
  message?: string;
}

/** The acknowledgement of a report, a result or a key operation. */
export class OkAckDto {
  @IsBoolean()
  ok!: boolean;

  @ValidateIf((o: OkAckDto) => o.ok === false)
  @ValidateNested()
  @Type(() => ProtocolErrorDto)
  error?: ProtocolErrorDto;
}
