import { useState, type FormEvent } from 'react';
import { api, call, fieldErrors, messageOf, type App, type CatalogApp, type Command, type Move } from '../api';
import { Alert, Confirm, Field, Time, ago, useLoad, useNow } from '../components/ui';
import { useLive } from '../live';
import { type Problems, useFormSubmit } from '../components/form';
import { matchesPattern } from '../patterns';
import { replicaIsOld } from '../replication';
import { go, href } from '../router';

const MOVE_STEPS = ['staging', 'stopping', 'replicated', 'restoring', 'running'] as const;
const STEP_LABEL: Record<string, string> = {
  staging: 'Copying the data to the new device while the app still runs',
  stopping: 'Stopping on the old device, with a final replication',
  replicated: 'Replicated',
  restoring: 'Restoring on the new device',
  running: 'Running on the new device',
};

export function AppPage({ instance }: { instance: string }) {
  const path = { params: { path: { instance } } };
  const app = useLoad(() => call(api.GET('/api/apps/{instance}', path)), [instance]);
  const devices = useLoad(() => call(api.GET('/api/devices')), []);
  const settings = useLoad(() => call(api.GET('/api/settings')), []);
  const name = app.data?.application.name;
  const catalog = useLoad(
    () => (name ? call(api.GET('/api/catalog/{app}', { params: { path: { app: name } } })) : Promise.resolve(undefined)),
    [name],
  );
  useLive(['apps', 'moves'], app.reload, instance);
  useLive(['devices'], devices.reload);
  const now = useNow();
  const [busy, setBusy] = useState('');
  const [failure, setFailure] = useState('');
  const [removing, setRemoving] = useState(false);

  if (app.error !== undefined) return <Alert>{messageOf(app.error)}</Alert>;
  const a = app.data;
  if (!a) return <p className="loading">Loading…</p>;
  const device = devices.data?.find((d) => d.id === a.deviceId);
  const warning = settings.data?.replicationWarningMinutes ?? 120;
  const domain = a.links.default?.domain;
  const open = catalog.data?.open;

  const act = async (what: 'start' | 'stop' | 'remove') => {
    setBusy(what);
    setFailure('');
    try {
      const outcome =
        what === 'start'
          ? await call(api.POST('/api/apps/{instance}/start', { ...path, body: { timeoutSeconds: 180 } }))
          : await call(
              api.POST('/api/apps/{instance}/stop', { ...path, body: { timeoutSeconds: 180, ...(what === 'remove' && { remove: true }) } }),
            );
      if (outcome.command.error) setFailure(`${outcome.command.error.code}: ${outcome.command.error.message}`);
      if (what === 'remove' && outcome.app === null) return go('apps');
      app.reload();
    } catch (error) {
      setFailure(messageOf(error));
    } finally {
      setBusy('');
      setRemoving(false);
    }
  };

  return (
    <>
      <p>
        <a href={href('apps')}>← Apps</a>
      </p>
      <div className="title-row">
        <h1>{catalog.data?.title ?? a.application.name}</h1>
        <span className={`badge state-${a.state}`}>{a.state}</span>
      </div>
      <dl className="facts">
        <dt>Device</dt>
        <dd>
          {device ? (
            <a href={href('devices', device.id)}>{device.name || device.id}</a>
          ) : a.deviceId ? (
            a.deviceId
          ) : (
            'none (its device was removed)'
          )}
        </dd>
        <dt>Wanted</dt>
        <dd>{a.desired}</dd>
        <dt>Version</dt>
        <dd>{a.application.version}</dd>
        {domain && (
          <>
            <dt>Address</dt>
            <dd>
              <a href={`https://${domain}${open?.path ?? '/'}`} target="_blank" rel="noreferrer noopener">
                Open {domain}
              </a>
            </dd>
          </>
        )}
        <dt>Reported</dt>
        <dd>
          <Time iso={a.reportedAt} now={now} />
        </dd>
      </dl>

      <div className="actions">
        <button type="button" onClick={() => act('start')} disabled={!!busy || a.deviceId === null}>
          {busy === 'start' ? 'Starting…' : 'Start'}
        </button>
        <button type="button" onClick={() => act('stop')} disabled={!!busy || a.deviceId === null}>
          {busy === 'stop' ? 'Stopping and replicating…' : 'Stop'}
        </button>
        <button type="button" className="danger" onClick={() => setRemoving(true)} disabled={!!busy || a.deviceId === null}>
          Remove
        </button>
      </div>
      {failure && <Alert>{failure}</Alert>}
      {removing && (
        <Confirm
          title="Remove this app?"
          confirmLabel={busy === 'remove' ? 'Removing…' : 'Remove app'}
          danger
          onConfirm={() => act('remove')}
          onCancel={() => setRemoving(false)}
          confirmDisabled={!!busy}
        >
          <p>It is stopped (with a last replication) and its containers and files leave the device. Its keys and replicas are kept.</p>
        </Confirm>
      )}

      <section>
        <h2>Containers</h2>
        {a.containers.length === 0 && <p>None reported.</p>}
        <ul>
          {a.containers.map((c) => (
            <li key={c.containerId}>
              {c.service}: {c.state}
              {c.health && c.health !== 'none' ? ` (${c.health})` : ''}
            </li>
          ))}
        </ul>
      </section>

      <section>
        <h2>Data</h2>
        {a.volumes.length === 0 && <p>No volume reported yet.</p>}
        <ul className="volumes">
          {a.volumes.map((v) => (
            <li key={v.name}>
              <strong>{v.role === 'app' ? 'App data' : 'Link data'}</strong> — last replica <Time iso={v.lastReplicatedAt} now={now} />
              {replicaIsOld(v.lastReplicatedAt, warning, now) && <span className="badge badge-amber"> older than {warning} min</span>}
              {v.replication.state === 'error' && <span className="badge badge-red"> replication failing: {v.replication.error}</span>}
              {v.replication.state === 'replicating' && <span className="badge"> replicating…</span>}
            </li>
          ))}
        </ul>
      </section>

      {catalog.data && Object.keys(catalog.data.commands).length > 0 && (
        <section>
          <h2>Commands</h2>
          {Object.entries(catalog.data.commands).map(([command, spec]) => (
            <CommandForm key={command} instance={instance} command={command} args={spec.args} disabled={a.state !== 'running'} />
          ))}
        </section>
      )}

      <MoveSection app={a} devices={devices.data ?? []} catalog={catalog.data} />
    </>
  );
}

function CommandForm({
  instance,
  command,
  args,
  disabled,
}: {
  instance: string;
  command: string;
  args: Record<string, { pattern: string }>;
  disabled: boolean;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Command | null>(null);
  const { errors, failure, busy, submit } = useFormSubmit();

  const run = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    for (const [arg, { pattern }] of Object.entries(args)) {
      const value = values[arg] ?? '';
      if (!matchesPattern(pattern, value)) found[`args.${arg}`] = `Must match ${pattern}`;
      else if (value.startsWith('-') && !pattern.startsWith('-') && !pattern.startsWith('^-'))
        found[`args.${arg}`] = 'May not start with -';
    }
    await submit(found, async () => {
      const outcome = await call(
        api.POST('/api/apps/{instance}/commands', { params: { path: { instance } }, body: { command, args: values, timeoutSeconds: 60 } }),
      );
      setResult(outcome.command);
    });
  };

  const output = result?.result as { exitCode?: number; stdout?: string; stderr?: string } | undefined;
  return (
    <form onSubmit={run} noValidate className="command-form" aria-label={`Command ${command}`}>
      <h3>{command}</h3>
      {Object.entries(args).map(([arg, { pattern }]) => (
        <Field
          key={arg}
          label={arg}
          value={values[arg] ?? ''}
          onChange={(e) => setValues({ ...values, [arg]: e.target.value })}
          error={errors[`args.${arg}`]}
          hint={`Pattern: ${pattern}`}
        />
      ))}
      <button disabled={busy || disabled}>{busy ? 'Running…' : `Run ${command}`}</button>
      {failure && <Alert>{failure}</Alert>}
      {result && (
        <div className="output" aria-live="polite">
          {result.error ? (
            <Alert>{`${result.error.code}: ${result.error.message}`}</Alert>
          ) : (
            <>
              <p>Exit code {output?.exitCode}</p>
              <pre aria-label={`Output of ${command}`}>{output?.stdout || '(no output)'}</pre>
              {output?.stderr && <pre aria-label={`Errors of ${command}`}>{output.stderr}</pre>}
            </>
          )}
        </div>
      )}
    </form>
  );
}

/** Codes that mean the old device gave no final replica: forcing may go on with the last one. */
const FORCEABLE = new Set(['REPLICATION_FAILED', 'NOT_WRITER', 'NO_ANSWER', 'DEVICE_OFFLINE', 'APP_UNASSIGNED', 'STORAGE_UNAVAILABLE']);
/** Refusals before anything stopped that forcing gets past: the app's device is offline, or was removed. */
const FORCEABLE_REFUSALS = new Set(['DEVICE_OFFLINE', 'APP_UNASSIGNED']);
/** A duration in ms as seconds with one decimal; "-" when there is none. */
const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

const REFUSAL_TEXT: Record<string, string> = {
  DEVICE_OFFLINE: 'The app’s device is offline: it cannot stop the app and replicate its data one last time.',
  APP_UNASSIGNED: 'The app has no device any more (it was removed): nothing can replicate its data one last time.',
};

function MoveSection({
  app,
  devices,
  catalog,
}: {
  app: App;
  devices: Array<{ id: string; name: string; authenticated: boolean }>;
  catalog?: CatalogApp;
}) {
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const [moveId, setMoveId] = useState<string | null>(null);
  const [confirmForce, setConfirmForce] = useState(false);
  const [understood, setUnderstood] = useState(false);
  /** The move was refused before anything stopped, for a reason forcing gets past. */
  const [refusal, setRefusal] = useState<string | null>(null);
  const move = useLoad(
    () => (moveId ? call(api.GET('/api/moves/{moveId}', { params: { path: { moveId } } })) : Promise.resolve(undefined)),
    [moveId],
  );
  useLive(['moves'], move.reload, moveId ?? undefined);
  const targets = devices.filter((d) => d.authenticated && d.id !== app.deviceId);
  const target = to || targets[0]?.id || '';
  const m: Move | undefined = move.data;

  const start = async (force: boolean) => {
    setError('');
    setRefusal(null);
    if (!target) return setError('Choose a connected device to move to.');
    try {
      const started = await call(
        api.POST('/api/apps/{instance}/move', { params: { path: { instance: app.instance } }, body: { to: target, force, wait: false } }),
      );
      setMoveId(started.id);
      setConfirmForce(false);
      setUnderstood(false);
    } catch (failure) {
      setConfirmForce(false);
      const code = (failure as { code?: string }).code ?? '';
      if (!force && FORCEABLE_REFUSALS.has(code)) setRefusal(REFUSAL_TEXT[code]);
      else setError(fieldErrors(failure).to ?? messageOf(failure));
    }
  };

  const cancel = async () => {
    if (!m) return;
    setError('');
    try {
      await call(api.POST('/api/moves/{moveId}/cancel', { params: { path: { moveId: m.id } }, body: {} }));
      move.reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const newest =
    app.volumes
      .map((v) => v.lastReplicatedAt)
      .filter((t): t is string => !!t)
      .sort()
      .at(-1) ?? null;
  const canForce = refusal !== null || (m?.state === 'failed' && !m.force && m.error !== null && FORCEABLE.has(m.error.code));
  const targetName = devices.find((d) => d.id === (m?.to ?? target))?.name ?? 'the other device';
  return (
    <section>
      <h2>Move to another device</h2>
      <form onSubmit={(e) => (e.preventDefault(), start(false))} noValidate className="inline-form">
        <div className="field">
          <label htmlFor="move-to">Device</label>
          <select
            id="move-to"
            value={target}
            onChange={(e) => setTo(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'move-error' : undefined}
          >
            {targets.length === 0 && <option value="">No other connected device</option>}
            {targets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name || d.id}
              </option>
            ))}
          </select>
          {error && (
            <p className="error" id="move-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button disabled={!!m && m.finishedAt === null}>Move {catalog?.title ?? app.application.name}</button>
      </form>
      {refusal && <Alert>{refusal}</Alert>}
      {refusal && (
        <button type="button" className="danger" onClick={() => setConfirmForce(true)}>
          Move anyway, from the last replica…
        </button>
      )}
      {m && (
        <div aria-live="polite" className="move">
          <ol className="steps">
            {MOVE_STEPS.filter((step) => step !== 'staging' || m.precopyCommandId !== null || m.prepareCommandId !== null).map((step) => {
              const reached =
                m.state === 'failed' || m.state === 'cancelled' ? false : MOVE_STEPS.indexOf(m.state as (typeof MOVE_STEPS)[number]) >= MOVE_STEPS.indexOf(step);
              return (
                <li key={step} data-done={reached} aria-current={m.state === step ? 'step' : undefined}>
                  {STEP_LABEL[step]}
                  {step === 'stopping' && m.stopError ? ` — skipped: ${m.stopError.message}` : ''}
                </li>
              );
            })}
          </ol>
          {m.state === 'running' && (
            <Alert kind="success">
              Moved: the app runs on {targetName}. It was down for {seconds(m.downtimeMs)} of the move’s {seconds(m.totalMs)}.
            </Alert>
          )}
          {m.state === 'cancelled' && (
            <Alert kind="warning">
              The move was cancelled: {m.resolution}
              {m.resolvedOn ? ` The app’s data is safe on ${devices.find((d) => d.id === m.resolvedOn)?.name ?? m.resolvedOn}.` : ''}
            </Alert>
          )}
          {m.finishedAt === null && (
            <button type="button" onClick={cancel}>
              Cancel the move
            </button>
          )}
          {m.state === 'failed' && (
            <Alert>
              The move failed: {m.error?.message} ({m.error?.code}). The app stays on its device
              {m.error?.code === 'REPLICATION_FAILED' ? ', stopped, its data kept' : ''}.
            </Alert>
          )}
          {m.lossWindow && (
            <Alert kind="warning">
              Forced: the data is from the replica of{' '}
              {m.lossWindow.lastReplicatedAt ? new Date(m.lossWindow.lastReplicatedAt).toLocaleString() : 'never'}
              {m.lossWindow.ageSeconds !== null ? ` (${m.lossWindow.ageSeconds} s before the move)` : ''}.
            </Alert>
          )}
          {canForce && !refusal && (
            <button type="button" className="danger" onClick={() => setConfirmForce(true)}>
              Move anyway, from the last replica…
            </button>
          )}
        </div>
      )}
      {confirmForce && (
        <Confirm
          title="Move without a final replica?"
          confirmLabel="Move anyway"
          danger
          confirmDisabled={!understood}
          onConfirm={() => start(true)}
          onCancel={() => setConfirmForce(false)}
        >
          <p>The old device could not replicate the app’s data one last time. Moving anyway restores the newest replica on {targetName}:</p>
          <p className="loss">
            <strong>
              Whatever changed after{' '}
              {newest ? `${new Date(newest).toLocaleString()} (${ago(newest)})` : 'the app was installed (it was never replicated)'} is
              lost.
            </strong>
          </p>
          <div className="field checkbox">
            <input id="loss-ok" type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
            <label htmlFor="loss-ok">I accept losing those changes.</label>
          </div>
        </Confirm>
      )}
    </section>
  );
}
