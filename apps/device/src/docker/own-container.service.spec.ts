import { deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { ContainerDetails, DockerEngineAdapter } from './docker-engine.adapter';
import { OwnContainerService } from './own-container.service';
import { SelfContainerAdapter } from './self-container.adapter';

const ID = 'c'.repeat(64);

function container(mounts: ContainerDetails['mounts']): ContainerDetails {
  return { id: ID, name: 'mosaic-device', image: 'mosaic/device:0.1.0', imageId: 'sha256:1', running: true, labels: {}, mounts };
}

describe('OwnContainerService', () => {
  function service(own: ContainerDetails | undefined, selfId: string | undefined = own?.id, deviceContainer?: string): OwnContainerService {
    return new OwnContainerService(
      deviceConfig({ deviceContainer }),
      strictFake<DockerEngineAdapter>({ inspectContainer: async (id: string) => (id === own?.id || id === own?.name ? own : undefined) }, 'DockerEngineAdapter'),
      strictFake<SelfContainerAdapter>({ containerId: async () => selfId }, 'SelfContainerAdapter'),
    );
  }

  it('outside a container, a path is its own host path', async () => {
    const own = service(undefined);
    expect(await own.details()).toBeUndefined();
    expect(await own.hostPath('/tmp/mosaic')).toBe('/tmp/mosaic');
  });

  it('finds its container by DEVICE_CONTAINER before looking at /proc', async () => {
    const details = container([]);
    expect(await service(details, undefined, 'mosaic-device').details()).toBe(details);
  });

  it('maps a path through the deepest mount that holds it, named volumes and binds alike', async () => {
    const own = service(
      container([
        { source: '/var/lib/docker/volumes/mosaic-socket/_data', destination: '/tmp/mosaic' },
        { source: '/srv', destination: '/data' },
        { source: '/srv/mosaic-replicas', destination: '/data/replicas' },
      ]),
    );
    expect(await own.hostPath('/tmp/mosaic')).toBe('/var/lib/docker/volumes/mosaic-socket/_data');
    expect(await own.hostPath('/data/replicas/a/b')).toBe('/srv/mosaic-replicas/a/b');
    expect(await own.hostPath('/data/volumes')).toBe('/srv/volumes');
  });

  it('does not take a mount for a path that only shares its name prefix', async () => {
    const own = service(container([{ source: '/srv/tmp', destination: '/tmp/mosaic' }]));
    expect(await own.hostPath('/tmp/mosaic-other')).toBeUndefined();
  });

  it('never maps a path with .. (it could climb out of the mount that seems to hold it)', async () => {
    const own = service(container([{ source: '/srv', destination: '/data' }]));
    expect(await own.hostPath('/data/../etc')).toBeUndefined();
    expect(await service(undefined).hostPath('/tmp/../etc')).toBeUndefined();
  });

  it('skips mounts without a host source (tmpfs)', async () => {
    expect(await service(container([{ source: '', destination: '/tmp/mosaic' }])).hostPath('/tmp/mosaic')).toBeUndefined();
  });

  it('says undefined, inside a container, for a path no mount holds', async () => {
    expect(await service(container([{ source: '/var/run/docker.sock', destination: '/var/run/docker.sock' }])).hostPath('/tmp/mosaic')).toBeUndefined();
  });
});
