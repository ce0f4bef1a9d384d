import { deviceHealth } from '@mosaic/hive-api';
import { api, call, messageOf } from '../api';
import { Alert, HealthCircle, Time, useLoad, useNow } from '../components/ui';
import { useLive } from '../live';
import { href } from '../router';

export function DevicesPage() {
  const { data: devices, error, reload } = useLoad(() => call(api.GET('/api/devices')), []);
  useLive(['devices'], reload);
  const now = useNow();
  return (
    <>
      <div className="title-row">
        <h1>Devices</h1>
        <a className="button primary" href={href('add-device')}>
          Add a device
        </a>
      </div>
      {error !== undefined && <Alert>{messageOf(error)}</Alert>}
      {devices?.length === 0 && <p>No device yet. Add one: it takes a single command on the machine.</p>}
      <ul className="cards" aria-label="Devices">
        {devices?.map((device) => {
          // Re-evaluated as time passes, so a device that stops reporting turns amber by itself.
          const health = deviceHealth(device, now);
          return (
            <li key={device.id} className="card" data-device={device.id}>
              <HealthCircle {...health} />
              <h2>
                <a href={href('devices', device.id)}>{device.name || 'Unnamed device (waiting for it to connect)'}</a>
              </h2>
              <dl className="facts">
                <dt>Version</dt>
                <dd>{device.version ?? 'not connected yet'}</dd>
                <dt>Last seen</dt>
                <dd>
                  <Time iso={device.lastSeenAt} now={now} />
                </dd>
              </dl>
            </li>
          );
        })}
      </ul>
    </>
  );
}
