import { Module } from '@nestjs/common';
import { ComposeCliAdapter } from './compose-cli.adapter';
import { ContainerExecService } from './container-exec.service';
import { DockerEngineAdapter } from './docker-engine.adapter';
import { LocalNodeAdapter } from './local-node.adapter';
import { OwnContainerService } from './own-container.service';
import { SelfContainerAdapter } from './self-container.adapter';

/** The engine and the Compose CLI, each behind one thin adapter, the device's own container, and commands run in containers. */
@Module({
  providers: [DockerEngineAdapter, ComposeCliAdapter, SelfContainerAdapter, OwnContainerService, LocalNodeAdapter, ContainerExecService],
  exports: [DockerEngineAdapter, ComposeCliAdapter, OwnContainerService, ContainerExecService],
})
export class DockerModule {}
