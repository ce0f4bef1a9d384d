import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

/** PATCH /api/devices/:id */
export class RenameDeviceDto {
  @ApiProperty({ minLength: 1, maxLength: 128 })
  @IsString()
  @Length(1, 128)
  @Matches(/^[^\x00-\x1f\x7f]+$/, { message: 'name must not contain control characters' })
  name!: string;
}
