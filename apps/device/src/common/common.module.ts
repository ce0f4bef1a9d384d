import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { StateFileAdapter } from './state-file.adapter';

/** The clock and the state files, one of each for the whole device. */
@Global()
@Module({ providers: [Clock, StateFileAdapter], exports: [Clock, StateFileAdapter] })
export class CommonModule {}
