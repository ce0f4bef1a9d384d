import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsOptionalNotNull, IsProtocolUuid } from '@mosaic/protocol';
import { AppCommandOptionsDto } from './app-command-options.dto';

/** POST /api/apps/:instance/move. `wait` and `timeoutSeconds` are about the whole move, not one command. */
export class MoveAppDto extends AppCommandOptionsDto {
  /** The device the app moves to. */
  @ApiProperty({ format: 'uuid' })
  @IsProtocolUuid()
  to!: string;

  /** Go on without a final replica when the old device cannot give one (offline, REPLICATION_FAILED, NOT_WRITER, …). */
  @ApiPropertyOptional({ default: false, description: 'Go on without a final replica (the loss window is recorded)' })
  @IsOptionalNotNull()
  @IsBoolean()
  force?: boolean;
}
