import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsOptionalNotNull } from '@mosaic/protocol';
import { AppCommandOptionsDto } from './app-command-options.dto';

/** POST /api/apps/:instance/stop */
export class StopAppDto extends AppCommandOptionsDto {
  /** Also take the app's containers and files off the device (its volumes, keys and replicas stay). */
  @ApiPropertyOptional({ default: false })
  @IsOptionalNotNull()
  @IsBoolean()
  remove?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptionalNotNull()
  @IsBoolean()
  replicate?: boolean;
}
