import { APP_STATES, ContainerDto } from '@mosaic/protocol';
import { appStateOf } from './app-state';

type State = ContainerDto['state'];
type Health = ContainerDto['health'];

/** Containers from short specs: 'running', 'running:healthy', 'exited' … */
function containers(...specs: string[]): ContainerDto[] {
  return specs.map((spec, i) => {
    const [state, health] = spec.split(':') as [State, Health];
    return { service: `s${i}`, containerId: `c${i}`, state, ...(health ? { health } : {}) };
  });
}

describe('appStateOf (§4 state words)', () => {
  it.each([
    // stopped
    ['no containers', [], 'stopped'],
    ['every container exited', ['exited', 'exited'], 'stopped'],
    ['paused containers only', ['paused'], 'stopped'],
    // running
    ['every container running, no health check', ['running', 'running'], 'running'],
    ['every container running and healthy', ['running:healthy', 'running:healthy'], 'running'],
    ['running with and without health checks', ['running:healthy', 'running', 'running:none'], 'running'],
    // starting
    ['containers created, none running yet', ['created', 'created'], 'starting'],
    ['created and exited, none running', ['created', 'exited'], 'starting'],
    ['a running container whose health check is starting', ['running:starting', 'running:healthy'], 'starting'],
    // degraded
    ['one running, one exited', ['running', 'exited'], 'degraded'],
    ['one running, one paused', ['running', 'paused'], 'degraded'],
    ['one running, one still created', ['running', 'created'], 'degraded'],
    ['all running but one unhealthy', ['running:unhealthy', 'running:healthy'], 'degraded'],
    // failed
    ['a container restarting (crash loop)', ['running', 'restarting'], 'failed'],
    ['a dead container', ['running:healthy', 'dead'], 'failed'],
    ['only a dead container', ['dead'], 'failed'],
    ['restarting wins over starting health', ['running:starting', 'restarting'], 'failed'],
  ])('%s → %s', (_label, specs, expected) => {
    expect(appStateOf(containers(...(specs as string[])))).toBe(expected);
  });

  it('only ever answers with a word of the protocol', () => {
    const words = ['created', 'running', 'running:healthy', 'running:unhealthy', 'running:starting', 'paused', 'restarting', 'removing', 'exited', 'dead'];
    for (const a of words) for (const b of words) expect(APP_STATES).toContain(appStateOf(containers(a, b)));
  });
});
