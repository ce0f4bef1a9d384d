import { IsBoolean, Length } from 'class-validator';
import { IsOptionalNotNull, IsStrictBase64 } from '@mosaic/protocol';

/** PUT /api/account/passphrase */
export class SetPassphraseDto {
  /** scrypt output (docs/protocol.md §1): 32 bytes are 44 base64 characters. */
  @IsStrictBase64(32)
  @Length(44, 44, { message: 'verifier must be base64 of exactly 32 bytes' })
  verifier!: string;

  @IsOptionalNotNull()
  @IsBoolean()
  replace?: boolean;
}
