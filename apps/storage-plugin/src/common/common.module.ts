import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { FilesAdapter } from './files.adapter';

/** Small shared providers: the clock and the filesystem adapter. */
@Global()
@Module({ providers: [Clock, FilesAdapter], exports: [Clock, FilesAdapter] })
export class CommonModule {}
