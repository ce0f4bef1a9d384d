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

  /**
   * Stage the move (default): the new device restores the replicas ahead while the app still runs
   * on the old one, so the app is down only while what changed since is copied (docs/protocol.md §2.7).
   */
  @ApiPropertyOptional({
    default: true,
    description: 'Let the new device restore the data ahead while the app still runs (false: stop first, then restore all of it)',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  stage?: boolean;
}
