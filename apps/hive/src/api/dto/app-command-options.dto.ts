import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { IsOptionalNotNull, charLength } from '@mosaic/protocol';
import { COMMAND_TIMEOUT_MAX_S } from '../../config/hive-config';

/** A value rule for string maps (variables, args): a string of at most `max` characters, without NUL. */
export const stringValue = (max: number) => (value: unknown) =>
  typeof value !== 'string'
    ? 'must be a string'
    : charLength(value) > max
      ? `must be at most ${max} characters`
      : value.includes('\0')
        ? 'must not contain NUL'
        : null;

/** wait and timeoutSeconds, as POST /api/devices/:id/commands takes them; every app request has them. */
export class AppCommandOptionsDto {
  /** Wait for the result (default) or answer once the device acknowledged. */
  @ApiPropertyOptional({ default: true, description: 'Wait for the result (200), or answer 202 once the device acknowledged' })
  @IsOptionalNotNull()
  @IsBoolean()
  wait?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: COMMAND_TIMEOUT_MAX_S, description: 'Default: HIVE_COMMAND_TIMEOUT_S' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(COMMAND_TIMEOUT_MAX_S)
  timeoutSeconds?: number;
}
