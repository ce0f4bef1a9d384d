import type { DynamicModule } from '@nestjs/common';
import type { ListenAddress } from './listen-address';

/** Where Nest's devtools server listens unless DEVTOOLS_ADDRESS says otherwise (the Devtools app's default port). */
export const DEFAULT_DEVTOOLS_ADDRESS = '127.0.0.1:8000';

/**
 * Why the Device and the storage plugin start Nest's devtools server only with
 * DEVTOOLS_ALLOW_CODE=true: said at boot, and in the README.
 */
export const DEVTOOLS_RUNS_CODE =
  "Nest's devtools server runs JavaScript sent to POST /inspector/graph/interact with every provider of the program at hand " +
  '(a session token printed on stdout and an Origin header guard it), and this program is root on its machine';

/**
 * `@nestjs/devtools-integration`'s DevtoolsModule with its HTTP server on `address`, which the
 * caller has checked is loopback. Loaded only when asked for: it brings a JavaScript sandbox along.
 */
export async function devtoolsModule(address: ListenAddress): Promise<DynamicModule> {
  const { DevtoolsModule } = await import('@nestjs/devtools-integration');
  // 12.0.0 hands `port` alone to server.listen(), which binds every interface; Node's listen()
  // takes { host, port } in that place too, so the server stays on the loopback address.
  const listenOn = { host: address.host, port: address.port } as unknown as number;
  return DevtoolsModule.register({ http: true, port: listenOn });
}

/** Says at boot, once, that a server that runs code is up, or why DEVTOOLS=true did not start it. */
export function announceDevtools(logger: { warn(message: string): void }, enabled: boolean, server: ListenAddress | undefined): void {
  if (server) logger.warn(`DEVTOOLS: Nest's devtools server on http://${server.host}:${server.port} runs code sent to it`);
  else if (enabled) logger.warn(`DEVTOOLS: Nest's devtools server is not started (${DEVTOOLS_RUNS_CODE}); DEVTOOLS_ALLOW_CODE=true starts it`);
}
