import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
export const PASSWORD_MIN_CHARS = 12;
export const PASSWORD_MAX_CHARS = 1024;

/** POST /api/session */
export class LoginDto {
  @ApiProperty({ pattern: USERNAME_PATTERN.source })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 1–64 letters, digits or . _ @ -' })
  username!: string;

  @ApiProperty({ minLength: 1, maxLength: PASSWORD_MAX_CHARS })
  @IsString()
  @Length(1, PASSWORD_MAX_CHARS, { message: `password must be 1–${PASSWORD_MAX_CHARS} characters` })
  password!: string;
}

/** POST /api/session/setup: the Console's first run. */
export class SetupDto {
  /** HIVE_ADMIN_TOKEN: proves that whoever creates the account runs this Hive. */
  @ApiProperty({ description: "The Hive's HIVE_ADMIN_TOKEN: only the operator has it." })
  @IsString()
  @Length(1, 512)
  adminToken!: string;

  @ApiProperty({ pattern: USERNAME_PATTERN.source })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 1–64 letters, digits or . _ @ -' })
  username!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_CHARS, maxLength: PASSWORD_MAX_CHARS })
  @IsString()
  @Length(PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS, { message: `password must be ${PASSWORD_MIN_CHARS}–${PASSWORD_MAX_CHARS} characters` })
  password!: string;
}
