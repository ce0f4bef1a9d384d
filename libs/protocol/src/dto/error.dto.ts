import { Allow, IsOptional, IsString, Length, Matches } from 'class-validator';
import { Patterns } from './constraints';

/** The one error shape of the protocol. */
export class ProtocolErrorDto {
  @Matches(Patterns.upperSnake, { message: 'code must be UPPER_SNAKE' })
  code!: string;

  @IsString()
  @Length(1, 4096)
  message!: string;

  @IsOptional()
  @Allow()
  details?: unknown;
}
