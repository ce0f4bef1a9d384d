import { IsString, Matches, MaxLength } from 'class-validator';

const ARMORED_PRIVATE = /^\s*-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]+-----END PGP PRIVATE KEY BLOCK-----\s*$/;

/** PUT /keys/:fingerprint — an unprotected, ASCII-armored OpenPGP private key. */
export class RegisterKeyDto {
  @IsString()
  @MaxLength(16384)
  @Matches(ARMORED_PRIVATE, { message: 'privateKey must be an ASCII-armored OpenPGP private key' })
  privateKey!: string;
}
