import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { IsOptionalNotNull } from '@mosaic/protocol';

/** POST /api/devices */
export class CreateDeviceDto {
  /** Absent or empty: the device names itself (its DEVICE_NAME, else its host name) when it first proves the passphrase. */
  @ApiPropertyOptional({ maxLength: 128, description: 'Empty or absent: the device gives its own name (DEVICE_NAME or host name) when it connects.' })
  @IsOptionalNotNull()
  @IsString()
  @Length(0, 128)
  @Matches(/^[^\x00-\x1f\x7f]*$/, { message: 'name must not contain control characters' })
  name?: string;
}
