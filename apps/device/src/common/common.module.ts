import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { InstanceLocks } from './instance-locks';
import { StateFileAdapter } from './state-file.adapter';
import { StateStore } from './state-store';

/** The clock, the state files and the per-instance locks, one of each for the whole device. */
@Global()
@Module({ providers: [Clock, StateFileAdapter, StateStore, InstanceLocks], exports: [Clock, StateFileAdapter, StateStore, InstanceLocks] })
export class CommonModule {}
