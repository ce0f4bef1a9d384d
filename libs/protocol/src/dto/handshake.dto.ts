import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { IsIsoUtc, IsProtocolUuid, IsStrictBase64, Patterns } from './constraints';

/** §1: the socket.io `auth` object the device connects with. */
export class HandshakeAuthDto {
  @IsInt()
  protocol!: number;

  @IsString()
  @Length(1, 512)
  token!: string;

  @IsString()
  @Length(1, 128)
  @Matches(Patterns.printable, { message: 'name must be printable ASCII' })
  name!: string;

  @IsString()
  @Matches(Patterns.semver, { message: 'version must be a semantic version' })
  version!: string;
}

export class HelloPassphraseDto {
  @IsStrictBase64(16)
  salt!: string;

  @IsBoolean()
  set!: boolean;
}

export class HelloHiveDto {
  @IsString()
  @Length(1, 64)
  version!: string;

  @IsIsoUtc()
  time!: string;
}

/** §1: what Hive sends on accept. */
export class HelloDto {
  @IsProtocolUuid()
  deviceId!: string;

  @IsProtocolUuid()
  account!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => HelloPassphraseDto)
  passphrase!: HelloPassphraseDto;

  @IsObject()
  @ValidateNested()
  @Type(() => HelloHiveDto)
  hive!: HelloHiveDto;
}

/** §1: the device's proof of the passphrase. */
export class PassphraseProveDto {
  @IsStrictBase64(32)
  verifier!: string;
}
