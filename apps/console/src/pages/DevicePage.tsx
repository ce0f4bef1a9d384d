import { deviceHealth } from '@mosaic/hive-api';
import { useState, type FormEvent } from 'react';
import { api, call, fieldErrors, messageOf, type Command } from '../api';
import { Alert, Confirm, Field, HealthCircle, Time, useLoad, useNow } from '../components/ui';
import { useLive } from '../live';
import { go, href } from '../router';

export function DevicePage({ id }: { id: string }) {
  const path = { params: { path: { deviceId: id } } };
  const device = useLoad(() => call(api.GET('/api/devices/{deviceId}', path)), [id]);
  const apps = useLoad(() => call(api.GET('/api/devices/{deviceId}/apps', path)), [id]);
  useLive(['devices'], device.reload, id);
  useLive(['apps'], apps.reload);
  const now = useNow(5000);
  const [name, setName] = useState<string | null>(null);
  const [nameError, setNameError] = useState('');
  const [removing, setRemoving] = useState(false);
  const [info, setInfo] = useState<{ info?: Command; disk?: Command; error?: string; busy?: boolean }>({});
  const [failure, setFailure] = useState('');

  if (device.error !== undefined) return <Alert>{messageOf(device.error)}</Alert>;
  const d = device.data;
  if (!d) return <p className="loading">Loading…</p>;
  const health = deviceHealth(d, now);
  const upgradePending = d.upgrade.reportedVersion !== null && d.upgrade.reportedVersion !== d.upgrade.currentVersion;

  const rename = async (event: FormEvent) => {
    event.preventDefault();
    const next = (name ?? d.name).trim();
    if (!next || next.length > 128) return setNameError('Use 1–128 characters.');
    try {
      await call(api.PATCH('/api/devices/{deviceId}', { ...path, body: { name: next } }));
      setName(null);
      setNameError('');
      device.reload();
    } catch (error) {
      setNameError(fieldErrors(error).name ?? messageOf(error));
    }
  };

  const systemInfo = async () => {
    setInfo({ busy: true });
    try {
      const send = (type: 'SystemCommand.info' | 'SystemCommand.diskSpace') =>
        call(api.POST('/api/devices/{deviceId}/commands', { ...path, body: { type, timeoutSeconds: 30 } }));
      const [sysInfo, disk] = await Promise.all([send('SystemCommand.info'), send('SystemCommand.diskSpace')]);
      setInfo({ info: sysInfo, disk });
    } catch (error) {
      setInfo({ error: messageOf(error) });
    }
  };

  const remove = async () => {
    try {
      await call(api.DELETE('/api/devices/{deviceId}', path));
      go('devices');
    } catch (error) {
      setRemoving(false);
      setFailure(messageOf(error));
    }
  };

  return (
    <>
      <p>
        <a href={href('devices')}>← Devices</a>
      </p>
      <div className="title-row">
        <h1>{d.name || 'Unnamed device'}</h1>
        <HealthCircle {...health} />
      </div>
      <p className="reason">{health.reason}</p>
      {failure && <Alert>{failure}</Alert>}
      <dl className="facts">
        <dt>Version</dt>
        <dd>
          {d.version ?? 'unknown'}
          {upgradePending && <span className="badge badge-amber"> upgrade to {d.upgrade.currentVersion} pending</span>}
          {!upgradePending && d.version !== null && d.version !== d.upgrade.currentVersion && (
            <span className="badge"> the Hive’s is {d.upgrade.currentVersion}</span>
          )}
        </dd>
        <dt>Last seen</dt>
        <dd>
          <Time iso={d.lastSeenAt} now={now} />
        </dd>
        <dt>Last report</dt>
        <dd>
          <Time iso={d.reportedAt} now={now} />
        </dd>
        <dt>Added</dt>
        <dd>
          <Time iso={d.createdAt} now={now} />
        </dd>
      </dl>

      <section>
        <h2>Apps on this device</h2>
        {apps.data?.length === 0 && <p>None yet.</p>}
        <ul>
          {apps.data?.map((app) => (
            <li key={app.instance}>
              <a href={href('apps', app.instance)}>{app.application.name}</a> — {app.state}
            </li>
          ))}
        </ul>
      </section>

      <section>
        <h2>System</h2>
        <button type="button" onClick={systemInfo} disabled={info.busy || !d.authenticated}>
          {info.busy ? 'Asking the device…' : 'Show disk space and system info'}
        </button>
        {!d.authenticated && <p className="hint">The device must be connected for this.</p>}
        {info.error && <Alert>{info.error}</Alert>}
        {info.info && <SystemFacts info={info.info} disk={info.disk} />}
      </section>

      <section>
        <h2>Name</h2>
        <form onSubmit={rename} noValidate className="inline-form">
          <Field label="Device name" value={name ?? d.name} onChange={(e) => setName(e.target.value)} error={nameError} />
          <button>Rename</button>
        </form>
      </section>

      <section>
        <h2>Remove</h2>
        <button type="button" className="danger" onClick={() => setRemoving(true)}>
          Remove this device
        </button>
      </section>
      {removing && (
        <Confirm
          title={`Remove ${d.name || 'this device'}?`}
          confirmLabel="Remove device"
          danger
          onConfirm={remove}
          onCancel={() => setRemoving(false)}
        >
          <p>Its token stops working at once and it is disconnected.</p>
          <p>
            {apps.data?.length
              ? `Its ${apps.data.length} app(s) stay recorded without a device and keep running on that machine until you stop them there; their data and replicas are kept. Move them to another device (forced) to run them elsewhere.`
              : 'It has no apps.'}
          </p>
        </Confirm>
      )}
    </>
  );
}

const FACT_LABELS: Record<string, string> = {
  hostname: 'Host name',
  os: 'Operating system',
  arch: 'Architecture',
  cpus: 'CPUs',
  memoryBytes: 'Memory',
  deviceVersion: 'Device',
  dockerVersion: 'Docker Engine',
  composeVersion: 'Docker Compose',
  storagePluginVersion: 'Storage plugin',
};

function SystemFacts({ info, disk }: { info: Command; disk?: Command }) {
  if (info.status !== 'succeeded') return <Alert>{info.error?.message ?? `The device answered ${info.status}.`}</Alert>;
  const facts = info.result as Record<string, unknown>;
  const paths = (disk?.result as { paths?: Array<{ path: string; freeBytes: number; totalBytes: number }> } | undefined)?.paths ?? [];
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;
  return (
    <dl className="facts">
      {Object.entries(FACT_LABELS)
        .filter(([key]) => typeof facts[key] === 'string' || typeof facts[key] === 'number')
        .map(([key, label]) => (
          <div key={key} className="fact">
            <dt>{label}</dt>
            <dd>{key === 'memoryBytes' ? gb(Number(facts[key])) : String(facts[key])}</dd>
          </div>
        ))}
      {paths.map((p) => (
        <div key={p.path} className="fact">
          <dt>Free on {p.path}</dt>
          <dd>
            {gb(p.freeBytes)} of {gb(p.totalBytes)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
