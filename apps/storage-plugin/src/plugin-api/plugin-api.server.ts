import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { UnixSocketServer, readBody, sendJson } from '../http/unix-socket-server';
import { PLUGIN_BODY_LIMIT, PluginApiHandler } from './plugin-api.handler';

/** Docker's media type for plugin answers. */
const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1+json';

/** Serves the Docker volume plugin protocol on DOCKER_PLUGIN_DIR/<driver>.sock. */
@Injectable()
export class PluginApiServer implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly socketPath: string;
  private readonly server: UnixSocketServer;

  constructor(@Inject(PLUGIN_CONFIG) config: PluginConfig, handler: PluginApiHandler) {
    this.socketPath = join(config.pluginDir, `${config.driver}.sock`);
    this.server = new UnixSocketServer('PluginApi', this.socketPath, async (req, res) => {
      const answer = await handler.handle(req.method ?? '', req.url ?? '/', await readBody(req, PLUGIN_BODY_LIMIT));
      sendJson(res, answer.status, answer.body, PLUGIN_MEDIA_TYPE);
    });
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
