import { Module } from '@nestjs/common';
import { ComposeCliAdapter } from './compose-cli.adapter';
import { DockerEngineAdapter } from './docker-engine.adapter';

/** The engine and the Compose CLI, each behind one thin adapter. */
@Module({ providers: [DockerEngineAdapter, ComposeCliAdapter], exports: [DockerEngineAdapter, ComposeCliAdapter] })
export class DockerModule {}
