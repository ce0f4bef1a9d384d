import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { IsHostName, IsOptionalNotNull, IsProtocolUuid, IsRecordOf, LIMITS, Patterns } from '@mosaic/protocol';
import { AppCommandOptionsDto, stringValue } from './app-command-options.dto';

/** POST /api/devices/:deviceId/apps */
export class InstallAppDto extends AppCommandOptionsDto {
  @ApiProperty({ description: 'A catalog app name', pattern: Patterns.appName.source })
  @IsString()
  @Matches(Patterns.appName, { message: 'app must be the name of a catalog app' })
  app!: string;

  /** A new instance id; the Hive makes one up when absent. */
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptionalNotNull()
  @IsProtocolUuid()
  instance?: string;

  /** The default link's domain; `<app>-<first 8 of instance>.mosaic.test` when absent. */
  @ApiPropertyOptional({ description: "The default link's domain" })
  @IsOptionalNotNull()
  @IsHostName()
  domain?: string;

  /** Checked against the app's declaration afterwards. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: "The app's declared variables" })
  @IsOptionalNotNull()
  @IsRecordOf({
    key: Patterns.variableName,
    keyHint: 'must match ^[A-Z][A-Z0-9_]{0,63}$',
    maxKeys: LIMITS.variables,
    value: stringValue(LIMITS.variableValueChars),
  })
  variables?: Record<string, string>;
}
