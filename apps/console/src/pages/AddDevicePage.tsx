import { deviceHealth } from '@mosaic/hive-api';
import { useState, type FormEvent } from 'react';
import { api, call, fieldErrors, messageOf } from '../api';
import { Alert, Field, HealthCircle, Progress, useLoad } from '../components/ui';
import { deviceCommand, deviceCompose } from '../device-command';
import { useLive } from '../live';
import { deriveVerifier, rememberPassphrase, rememberedPassphrase } from '../passphrase';
import { href } from '../router';

interface Created {
  id: string;
  token: string;
  name: string;
}

/** Name (optional) → the device's token → the ready `docker run` command → waits, live, for the device. */
export function AddDevicePage() {
  const [name, setName] = useState('');
  const [passphrase, setPassphrase] = useState(rememberedPassphrase() ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState('');
  const [checking, setChecking] = useState<number | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState('');
  const account = useLoad(() => call(api.GET('/api/account')), []);
  const health = useLoad(() => call(api.GET('/api/health')), []);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (name.length > 128 || /[\x00-\x1f\x7f]/.test(name)) found.name = 'Use at most 128 characters, without control characters.';
    if (!passphrase) found.passphrase = 'Enter the account passphrase: the device needs it.';
    setErrors(found);
    setFailure('');
    if (Object.keys(found).length || !account.data) return;
    if (!account.data.passphrase.set) return setFailure('Set the account passphrase first (Passphrase page).');
    try {
      if (passphrase !== rememberedPassphrase()) {
        // The device would be refused with a wrong passphrase: check it first, here, without sending it.
        setChecking(0);
        const verifier = await deriveVerifier(passphrase, account.data.passphrase.salt, (f) => setChecking(f * 100));
        const { matches } = await call(api.POST('/api/account/passphrase/check', { body: { verifier } }));
        setChecking(null);
        if (!matches) return setErrors({ passphrase: 'This is not the account’s passphrase.' });
        rememberPassphrase(passphrase);
      }
      const device = await call(api.POST('/api/devices', { body: { name } }));
      setCreated({ id: device.id, token: device.token, name });
    } catch (error) {
      setChecking(null);
      setErrors(fieldErrors(error));
      if (!Object.keys(fieldErrors(error)).length) setFailure(messageOf(error));
    }
  };

  if (created) {
    const settings = { hiveUrl: window.location.origin, token: created.token, passphrase, version: health.data?.version ?? 'latest' };
    const copy = async (what: string, text: string) => {
      await navigator.clipboard?.writeText(text).catch(() => undefined);
      setCopied(what);
    };
    return (
      <>
        <h1>Run this on the machine</h1>
        <p>
          On the machine the device runs on (with Docker), run this command as root. It holds everything the device needs: the Hive’s
          address, the device’s token and the account passphrase.
        </p>
        <Alert kind="warning">
          The command contains secrets (the token and the passphrase). Do not paste it anywhere else. The container’s environment shows them
          to whoever can use Docker on that machine (root anyway); the compose version below keeps them in files instead.
        </Alert>
        <div className="command-box">
          <pre aria-label="docker run command" data-testid="docker-run">
            <code>{deviceCommand(settings, !shown)}</code>
          </pre>
          <div className="actions">
            <button type="button" onClick={() => setShown(!shown)} aria-pressed={shown}>
              {shown ? 'Hide secrets' : 'Show secrets'}
            </button>
            <button type="button" className="primary" onClick={() => copy('command', deviceCommand(settings, false))}>
              Copy command
            </button>
          </div>
          {copied === 'command' && <p role="status">Copied, secrets included.</p>}
        </div>
        <details>
          <summary>Or with Docker Compose</summary>
          <pre aria-label="compose file">
            <code>{deviceCompose(settings, !shown)}</code>
          </pre>
          <button type="button" onClick={() => copy('compose', deviceCompose(settings, false))}>
            Copy compose file
          </button>
          {copied === 'compose' && <p role="status">Copied, secrets included.</p>}
        </details>
        <WaitForDevice id={created.id} />
      </>
    );
  }

  return (
    <>
      <h1>Add a device</h1>
      <form onSubmit={create} noValidate className="narrow-form">
        <Field
          label="Name (optional)"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.name}
          hint="Leave it empty and the device uses its host name."
        />
        <Field
          label="Account passphrase"
          secret
          autoComplete="off"
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
          error={errors.passphrase}
          hint="It goes into the command for the device. It is checked here and never sent to the Hive."
        />
        {checking !== null && <Progress value={checking} label="Checking the passphrase" />}
        {failure && <Alert>{failure}</Alert>}
        <button className="primary" disabled={checking !== null}>
          Create the command
        </button>
      </form>
    </>
  );
}

function WaitForDevice({ id }: { id: string }) {
  const device = useLoad(() => call(api.GET('/api/devices/{deviceId}', { params: { path: { deviceId: id } } })), [id]);
  useLive(['devices'], device.reload, id);
  const health = device.data ? deviceHealth(device.data) : null;
  return (
    <section aria-live="polite" className="wait">
      <h2>Waiting for the device</h2>
      {health?.state === 'green' ? (
        <p>
          <HealthCircle {...health} /> <strong>{device.data?.name}</strong> is connected and ready.{' '}
          <a href={href('devices', id)}>Open the device</a> or <a href={href('catalog')}>install an app</a>.
        </p>
      ) : (
        <p>
          {health && <HealthCircle {...health} />}{' '}
          {health?.state === 'amber'
            ? 'Connected; waiting for it to prove the passphrase and report…'
            : 'Not connected yet. This page updates by itself.'}
        </p>
      )}
    </section>
  );
}
