import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { UnixSocketServer } from '../http/unix-socket-server';
import { ControlApiRouter } from './control-api.router';

/** Serves the control API on STORAGE_PLUGIN_SOCKET. */
@Injectable()
export class ControlApiServer implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly server: UnixSocketServer;

  constructor(@Inject(PLUGIN_CONFIG) config: PluginConfig, router: ControlApiRouter) {
    this.server = new UnixSocketServer('ControlApi', config.controlSocket, (req, res) => router.handle(req, res));
  }

  onApplicationBootstrap(): Promise<void> {
    return this.server.listen();
  }

  beforeApplicationShutdown(): void {
    this.server.stopAccepting();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.close();
  }
}
