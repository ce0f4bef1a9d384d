import { useState, type FormEvent } from 'react';
import { api, call, fieldErrors, messageOf } from '../api';
import { Alert, Field, useLoad } from '../components/ui';

export function SettingsPage() {
  const settings = useLoad(() => call(api.GET('/api/settings')), []);
  const [minutes, setMinutes] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const value = minutes ?? String(settings.data?.replicationWarningMinutes ?? '');

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > 43200)
      return setError('Enter whole minutes from 1 to 43200 (30 days).');
    try {
      await call(api.PUT('/api/settings', { body: { replicationWarningMinutes: Number(value) } }));
      setError('');
      setSaved(true);
      settings.reload();
    } catch (failure) {
      setError(fieldErrors(failure).replicationWarningMinutes ?? messageOf(failure));
      // The value stays in the field: after signing in again, Save sends it.
    }
  };

  return (
    <>
      <h1>Settings</h1>
      <form onSubmit={save} noValidate className="narrow-form">
        <Field
          label="Warn when a volume’s last replica is older than (minutes)"
          inputMode="numeric"
          value={value}
          onChange={(e) => setMinutes(e.target.value)}
          error={error}
          hint="Devices replicate every hour by default (REPLICATION_INTERVAL_S); apps whose data is older are flagged."
        />
        {saved && <Alert kind="success">Saved.</Alert>}
        <button className="primary">Save</button>
      </form>
    </>
  );
}
