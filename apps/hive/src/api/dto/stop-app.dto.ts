import { IsBoolean } from 'class-validator';
import { IsOptionalNotNull } from '@mosaic/protocol';
import { AppCommandOptionsDto } from './app-command-options.dto';

/** POST /api/apps/:instance/stop */
export class StopAppDto extends AppCommandOptionsDto {
  /** Also take the app's containers and files off the device (its volumes, keys and replicas stay). */
  @IsOptionalNotNull()
  @IsBoolean()
  remove?: boolean;

  @IsOptionalNotNull()
  @IsBoolean()
  replicate?: boolean;
}
