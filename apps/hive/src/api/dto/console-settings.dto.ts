import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { REPLICATION_WARNING_MAX_MINUTES } from '../../settings/console-settings.service';

/** PUT /api/settings */
export class ConsoleSettingsDto {
  /** A volume whose last replica is older than this is shown with a warning. */
  @ApiProperty({ minimum: 1, maximum: REPLICATION_WARNING_MAX_MINUTES })
  @IsInt()
  @Min(1)
  @Max(REPLICATION_WARNING_MAX_MINUTES)
  replicationWarningMinutes!: number;
}
