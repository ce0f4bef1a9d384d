import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { VolumesModule } from '../volumes/volumes.module';
import { ControlApiRouter } from './control-api.router';
import { ControlApiServer } from './control-api.server';

/** The Device's control API on STORAGE_PLUGIN_SOCKET. */
@Module({ imports: [KeysModule, VolumesModule], providers: [ControlApiRouter, ControlApiServer] })
export class ControlApiModule {}
