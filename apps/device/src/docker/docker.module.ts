import { Module } from '@nestjs/common';
import { ComposeCliAdapter } from './compose-cli.adapter';
import { DockerEngineAdapter } from './docker-engine.adapter';
import { OwnContainerService } from './own-container.service';
import { SelfContainerAdapter } from './self-container.adapter';

/** The engine and the Compose CLI, each behind one thin adapter, and the device's own container. */
@Module({
  providers: [DockerEngineAdapter, ComposeCliAdapter, SelfContainerAdapter, OwnContainerService],
  exports: [DockerEngineAdapter, ComposeCliAdapter, OwnContainerService],
})
export class DockerModule {}
