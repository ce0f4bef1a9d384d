import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsObject, Max, Min } from 'class-validator';
import { COMMAND_TYPES, IsOptionalNotNull } from '@mosaic/protocol';
import { COMMAND_TIMEOUT_MAX_S } from '../../config/hive-config';

/** POST /api/devices/:id/commands. `params` is checked by the type's own DTO afterwards. */
export class SendCommandDto {
  @ApiProperty({ enum: COMMAND_TYPES })
  @IsIn(COMMAND_TYPES, { message: `type must be one of ${COMMAND_TYPES.join(', ')}` })
  type!: string;

  /** Absent means `{}`, which is all the parameterless commands take. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptionalNotNull()
  @IsObject()
  params?: Record<string, unknown>;

  /** Wait for the result (default) or answer once the device acknowledged. */
  @ApiPropertyOptional({ default: true })
  @IsOptionalNotNull()
  @IsBoolean()
  wait?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: COMMAND_TIMEOUT_MAX_S })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(COMMAND_TIMEOUT_MAX_S)
  timeoutSeconds?: number;
}
