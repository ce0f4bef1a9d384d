import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, Length } from 'class-validator';
import { IsOptionalNotNull, IsStrictBase64 } from '@mosaic/protocol';

/** PUT /api/account/passphrase */
export class SetPassphraseDto {
  /** scrypt output (docs/protocol.md §1): 32 bytes are 44 base64 characters. */
  @ApiProperty({ format: 'byte', minLength: 44, maxLength: 44, description: 'scrypt(passphrase, salt, N=131072, r=8, p=1, 32 bytes)' })
  @IsStrictBase64(32)
  @Length(44, 44, { message: 'verifier must be base64 of exactly 32 bytes' })
  verifier!: string;

  @ApiPropertyOptional({ default: false, description: 'Replace a set verifier (every device must prove the new passphrase)' })
  @IsOptionalNotNull()
  @IsBoolean()
  replace?: boolean;
}
