import { IsBoolean, IsIn, IsString, Matches } from 'class-validator';
import { IsOptionalNotNull, IsProtocolUuid, Patterns } from '@mosaic/protocol';
import { VOLUME_NAME_PATTERN, VOLUME_ROLES, VolumeRole } from '../../volumes/volume-record';

/** POST /volumes */
export class CreateVolumeDto {
  @IsString()
  @Matches(VOLUME_NAME_PATTERN, {
    message: 'name must be a Docker volume name: a letter or digit, then letters, digits, _ . - (at most 128)',
  })
  name!: string;

  @IsProtocolUuid()
  instance!: string;

  @IsIn(VOLUME_ROLES)
  role!: VolumeRole;

  @Matches(Patterns.fingerprint, { message: 'fingerprint must be 40 lower-case hex digits' })
  fingerprint!: string;

  /** The device id that writes the replica. */
  @IsProtocolUuid()
  writer!: string;

  @IsOptionalNotNull()
  @IsBoolean()
  failover?: boolean;
}
