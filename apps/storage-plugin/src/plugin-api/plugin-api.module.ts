import { Module } from '@nestjs/common';
import { VolumesModule } from '../volumes/volumes.module';
import { PluginApiHandler } from './plugin-api.handler';
import { PluginApiServer } from './plugin-api.server';

/** The Docker volume plugin protocol on the plugin socket. */
@Module({ imports: [VolumesModule], providers: [PluginApiHandler, PluginApiServer] })
export class PluginApiModule {}
