import { AppState, ContainerDto } from '@mosaic/protocol';

/** One word for an app from its containers' states (§4 `state`). */
export function appStateOf(containers: ContainerDto[]): AppState {
  if (containers.length === 0) return 'stopped';
  const running = containers.filter((c) => c.state === 'running');
  if (containers.some((c) => c.state === 'restarting' || c.state === 'dead')) return 'failed';
  if (running.length === 0) {
    return containers.some((c) => c.state === 'created') ? 'starting' : 'stopped';
  }
  if (running.some((c) => c.health === 'starting')) return 'starting';
  if (running.length < containers.length || running.some((c) => c.health === 'unhealthy')) return 'degraded';
  return 'running';
}
