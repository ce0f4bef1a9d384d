import { IsString, Length, Matches } from 'class-validator';

/** POST /api/devices */
export class CreateDeviceDto {
  @IsString()
  @Length(1, 128)
  @Matches(/^[^\x00-\x1f\x7f]+$/, { message: 'name must not contain control characters' })
  name!: string;
}
