import { IsString, Matches } from 'class-validator';
import { IsHostName, IsOptionalNotNull, IsProtocolUuid, IsRecordOf, LIMITS, Patterns } from '@mosaic/protocol';
import { AppCommandOptionsDto, stringValue } from './app-command-options.dto';

/** POST /api/devices/:deviceId/apps */
export class InstallAppDto extends AppCommandOptionsDto {
  @IsString()
  @Matches(Patterns.appName, { message: 'app must be the name of a catalog app' })
  app!: string;

  /** A new instance id; the Hive makes one up when absent. */
  @IsOptionalNotNull()
  @IsProtocolUuid()
  instance?: string;

  /** The default link's domain; `<app>-<first 8 of instance>.mosaic.test` when absent. */
  @IsOptionalNotNull()
  @IsHostName()
  domain?: string;

  /** Checked against the app's declaration afterwards. */
  @IsOptionalNotNull()
  @IsRecordOf({
    key: Patterns.variableName,
    keyHint: 'must match ^[A-Z][A-Z0-9_]{0,63}$',
    maxKeys: LIMITS.variables,
    value: stringValue(LIMITS.variableValueChars),
  })
  variables?: Record<string, string>;
}
