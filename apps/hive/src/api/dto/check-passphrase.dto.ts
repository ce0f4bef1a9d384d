import { ApiProperty } from '@nestjs/swagger';
import { Length } from 'class-validator';
import { IsStrictBase64 } from '@mosaic/protocol';

/** POST /api/account/passphrase/check */
export class CheckPassphraseDto {
  /** scrypt output (docs/protocol.md §1), derived in the browser: the passphrase never reaches the Hive. */
  @ApiProperty({ format: 'byte', minLength: 44, maxLength: 44 })
  @IsStrictBase64(32)
  @Length(44, 44, { message: 'verifier must be base64 of exactly 32 bytes' })
  verifier!: string;
}
