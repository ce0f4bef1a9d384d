import { api, call, messageOf } from '../api';
import { Alert, Time, useLoad, useNow } from '../components/ui';
import { useLive } from '../live';
import { replicaIsOld } from '../replication';
import { href } from '../router';

export function AppsPage() {
  const apps = useLoad(() => call(api.GET('/api/apps')), []);
  const devices = useLoad(() => call(api.GET('/api/devices')), []);
  const settings = useLoad(() => call(api.GET('/api/settings')), []);
  useLive(['apps', 'moves'], apps.reload);
  useLive(['devices'], devices.reload);
  useLive(['settings'], settings.reload);
  const now = useNow();
  const deviceName = (id: string | null) => devices.data?.find((d) => d.id === id)?.name || (id ? id.slice(0, 8) : 'no device');
  const warning = settings.data?.replicationWarningMinutes ?? 120;
  return (
    <>
      <div className="title-row">
        <h1>Apps</h1>
        <a className="button primary" href={href('catalog')}>
          Install an app
        </a>
      </div>
      {apps.error !== undefined && <Alert>{messageOf(apps.error)}</Alert>}
      {apps.data?.length === 0 && <p>No app yet: install one from the catalog.</p>}
      {!!apps.data?.length && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Installed apps</caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">State</th>
                <th scope="col">Device</th>
                <th scope="col">Last replica</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.map((app) => {
                const newest =
                  app.volumes
                    .map((v) => v.lastReplicatedAt)
                    .filter((t): t is string => !!t)
                    .sort()
                    .at(0) ?? null;
                const old = app.volumes.length > 0 && app.volumes.some((v) => replicaIsOld(v.lastReplicatedAt, warning, now));
                return (
                  <tr key={app.instance}>
                    <th scope="row">
                      <a href={href('apps', app.instance)}>{app.application.name}</a>
                      <span className="hint"> {app.instance.slice(0, 8)}</span>
                    </th>
                    <td>
                      <span className={`badge state-${app.state}`}>{app.state}</span>
                    </td>
                    <td>{deviceName(app.deviceId)}</td>
                    <td>
                      <Time iso={newest} now={now} />
                      {old && <span className="badge badge-amber"> older than {warning} min</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
