import { useState, type FormEvent } from 'react';
import { api, call, messageOf, type Command } from '../api';
import { type Problems, useFormSubmit } from '../components/form';
import { Alert, Field, Progress, useLoad } from '../components/ui';
import { useLive } from '../live';
import { matchesPattern } from '../patterns';
import { href } from '../router';

/** A form made from the app's declared variables; the install's progress follows the device's command.progress. */
export function InstallPage({ app, preselect }: { app: string; preselect?: string }) {
  const catalog = useLoad(() => call(api.GET('/api/catalog/{app}', { params: { path: { app } } })), [app]);
  const devices = useLoad(() => call(api.GET('/api/devices')), []);
  useLive(['devices'], devices.reload);
  const [deviceId, setDeviceId] = useState(preselect ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const { errors, failure, busy, submit: send } = useFormSubmit();
  const [started, setStarted] = useState<{ instance: string; deviceId: string; command: Command } | null>(null);

  const spec = catalog.data;
  const ready = (devices.data ?? []).filter((d) => d.authenticated);
  const chosen = deviceId || ready[0]?.id || '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!spec) return;
    const found: Problems = {};
    if (!chosen) found.device = 'Choose a connected device.';
    for (const [name, variable] of Object.entries(spec.variables)) {
      const value = values[name] ?? '';
      if (value === '' && variable.required) found[`variables.${name}`] = 'Required.';
      else if (value !== '' && !matchesPattern(variable.pattern, value)) found[`variables.${name}`] = `Must match ${variable.pattern}`;
    }
    const variables = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    await send(found, async () => {
      const outcome = await call(
        api.POST('/api/devices/{deviceId}/apps', { params: { path: { deviceId: chosen } }, body: { app, variables, wait: false } }),
      );
      setStarted({ instance: outcome.instance, deviceId: chosen, command: outcome.command });
    });
  };

  if (catalog.error !== undefined) return <Alert>{messageOf(catalog.error)}</Alert>;
  if (!spec) return <p className="loading">Loading…</p>;
  if (started) return <InstallProgress {...started} title={spec.title} />;
  return (
    <>
      <p>
        <a href={href('catalog')}>← Catalog</a>
      </p>
      <h1>Install {spec.title}</h1>
      <p>{spec.description}</p>
      <form onSubmit={submit} noValidate className="narrow-form">
        <div className="field">
          <label htmlFor="device">Device</label>
          <select
            id="device"
            value={chosen}
            onChange={(e) => setDeviceId(e.target.value)}
            aria-invalid={errors.device ? true : undefined}
            aria-describedby={errors.device ? 'device-error' : undefined}
          >
            {ready.length === 0 && <option value="">No connected device</option>}
            {ready.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name || d.id}
              </option>
            ))}
          </select>
          {errors.device && (
            <p className="error" id="device-error" role="alert">
              {errors.device}
            </p>
          )}
        </div>
        {Object.entries(spec.variables).map(([name, variable]) => (
          <Field
            key={name}
            label={`${name}${variable.required ? '' : ' (optional)'}`}
            secret={variable.secret}
            autoComplete="off"
            placeholder={variable.default}
            value={values[name] ?? ''}
            onChange={(e) => setValues({ ...values, [name]: e.target.value })}
            error={errors[`variables.${name}`]}
            hint={variable.description}
          />
        ))}
        {failure && <Alert>{failure}</Alert>}
        <button className="primary" disabled={busy}>
          Install
        </button>
      </form>
    </>
  );
}

function InstallProgress({
  instance,
  deviceId,
  command: first,
  title,
}: {
  instance: string;
  deviceId: string;
  command: Command;
  title: string;
}) {
  const command = useLoad(
    () => call(api.GET('/api/devices/{deviceId}/commands/{commandId}', { params: { path: { deviceId, commandId: first.id } } })),
    [first.id],
  );
  useLive(['commands'], command.reload, first.id);
  const c = command.data ?? first;
  const done = c.status === 'succeeded';
  const failed = c.status === 'failed' || c.status === 'refused' || c.status === 'timeout';
  return (
    <>
      <h1>Installing {title}</h1>
      <section aria-live="polite">
        {!done && !failed && (
          <>
            <p>
              Status: <strong>{c.status}</strong>
              {c.progress && ` · ${c.progress.stage}${c.progress.message ? `: ${c.progress.message}` : ''}`}
            </p>
            {c.progress?.percent !== undefined && <Progress value={c.progress.percent} label={c.progress.stage} />}
          </>
        )}
        {done && (
          <Alert kind="success">
            {title} is running. <a href={href('apps', instance)}>Open the app’s page</a>.
          </Alert>
        )}
        {failed && (
          <Alert>
            The install {c.status}: {c.error?.message ?? 'no reason given'} ({c.error?.code}).{' '}
            <a href={href('apps', instance)}>The app’s page</a> lets you start it again or remove it.
          </Alert>
        )}
      </section>
    </>
  );
}
