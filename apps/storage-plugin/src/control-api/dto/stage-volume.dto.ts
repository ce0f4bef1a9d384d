import { Matches } from 'class-validator';
import { Patterns } from '@mosaic/protocol';

/** POST /volumes/{name}/stage: the key the replica opens with (registered before). */
export class StageVolumeDto {
  @Matches(Patterns.fingerprint, { message: 'fingerprint must be 40 lower-case hex digits' })
  fingerprint!: string;
}
