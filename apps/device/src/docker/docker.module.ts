import { Module } from '@nestjs/common';
import { ComposeCliAdapter } from './compose-cli.adapter';
import { ContainerExecService } from './container-exec.service';
import { ContainerSwap } from './container-swap';
import { DockerEngineAdapter } from './docker-engine.adapter';
import { LocalNodeAdapter } from './local-node.adapter';
import { OwnContainerService } from './own-container.service';
import { SelfContainerAdapter } from './self-container.adapter';

/** The engine and the Compose CLI, each behind one thin adapter, the device's own container, commands run in containers, and replacing a container with rollback. */
@Module({
  providers: [DockerEngineAdapter, ComposeCliAdapter, SelfContainerAdapter, OwnContainerService, LocalNodeAdapter, ContainerExecService, ContainerSwap],
  exports: [DockerEngineAdapter, ComposeCliAdapter, OwnContainerService, ContainerExecService, ContainerSwap],
})
export class DockerModule {}
