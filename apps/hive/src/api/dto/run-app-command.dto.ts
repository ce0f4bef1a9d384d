import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { IsOptionalNotNull, IsRecordOf, LIMITS, Patterns } from '@mosaic/protocol';
import { AppCommandOptionsDto, stringValue } from './app-command-options.dto';

/** POST /api/apps/:instance/commands */
export class RunAppCommandDto extends AppCommandOptionsDto {
  @ApiProperty({ description: 'A command the app declares in x-mosaic.commands' })
  @IsString()
  @Matches(Patterns.appCommandName, { message: 'command must match ^[a-z0-9][a-z0-9_.-]{0,63}$' })
  command!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptionalNotNull()
  @IsRecordOf({
    key: Patterns.argName,
    keyHint: 'must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$',
    maxKeys: LIMITS.appCommandArgs,
    value: stringValue(LIMITS.appCommandArgChars),
  })
  args?: Record<string, string>;
}
