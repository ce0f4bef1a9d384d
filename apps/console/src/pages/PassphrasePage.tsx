import { useState, type FormEvent } from 'react';
import { api, call, messageOf } from '../api';
import { Alert, Field, Progress, useLoad } from '../components/ui';
import { useLive } from '../live';
import { PASSPHRASE_MIN_CHARS, deriveVerifier, passphraseStrength, rememberPassphrase } from '../passphrase';

/** Sets (or replaces) the account passphrase: the verifier is computed here, the passphrase never leaves the browser. */
export function PassphrasePage() {
  const account = useLoad(() => call(api.GET('/api/account')), []);
  useLive(['account'], account.reload);
  const [form, setForm] = useState({ passphrase: '', confirm: '', understood: false });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [progress, setProgress] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const isSet = account.data?.passphrase.set ?? false;
  const strength = passphraseStrength(form.passphrase);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (form.passphrase.length < PASSPHRASE_MIN_CHARS) found.passphrase = `Use at least ${PASSPHRASE_MIN_CHARS} characters.`;
    else if (strength.score < 2) found.passphrase = `Too weak (${strength.label.toLowerCase()}): ${strength.hint}`;
    if (form.confirm !== form.passphrase) found.confirm = 'The two passphrases differ.';
    if (!form.understood) found.understood = 'Confirm that you have read this.';
    setErrors(found);
    setOutcome(null);
    if (Object.keys(found).length || !account.data) return;
    try {
      setProgress(0);
      const verifier = await deriveVerifier(form.passphrase, account.data.passphrase.salt, (f) => setProgress(f * 100));
      await call(api.PUT('/api/account/passphrase', { body: { verifier, replace: isSet } }));
      rememberPassphrase(form.passphrase);
      setForm({ passphrase: '', confirm: '', understood: false });
      setOutcome({
        kind: 'success',
        text: isSet ? 'The passphrase was replaced. Every device must now be started with the new one.' : 'The passphrase is set.',
      });
      account.reload();
    } catch (error) {
      setOutcome({ kind: 'error', text: messageOf(error) });
    } finally {
      setProgress(null);
    }
  };

  return (
    <>
      <h1>Account passphrase</h1>
      <p>
        Every device of this account knows the passphrase: it protects the keys of your apps’ data. It is computed into a verifier in this
        browser; the Hive keeps only a salted hash of that verifier and never sees the passphrase.
      </p>
      <Alert kind="warning">
        <strong>A lost passphrase cannot be recovered.</strong> Nobody, not even the Hive, can open your apps’ keys without it: keep it in a
        password manager or on paper.
      </Alert>
      {isSet && (
        <Alert kind="info">
          A passphrase is set. Changing it disconnects every device: each must be restarted with the new passphrase. The keys of apps
          installed so far stay locked with the old one, so moving those apps to another device needs the old passphrase.
        </Alert>
      )}
      <form onSubmit={submit} noValidate className="narrow-form">
        <Field
          label={isSet ? 'New passphrase' : 'Passphrase'}
          secret
          autoComplete="new-password"
          value={form.passphrase}
          onChange={(e) => setForm({ ...form, passphrase: e.target.value })}
          error={errors.passphrase}
        />
        <div className="meter" data-score={strength.score}>
          <meter
            min={0}
            max={4}
            low={2}
            high={3}
            optimum={4}
            value={form.passphrase ? strength.score : 0}
            aria-label="Passphrase strength"
          />
          <span aria-live="polite">
            {form.passphrase ? `${strength.label}. ${strength.hint}` : `At least ${PASSPHRASE_MIN_CHARS} characters.`}
          </span>
        </div>
        <Field
          label="Passphrase again"
          secret
          autoComplete="new-password"
          value={form.confirm}
          onChange={(e) => setForm({ ...form, confirm: e.target.value })}
          error={errors.confirm}
        />
        <div className="field checkbox">
          <input
            id="understood"
            type="checkbox"
            checked={form.understood}
            onChange={(e) => setForm({ ...form, understood: e.target.checked })}
            aria-invalid={errors.understood ? true : undefined}
            aria-describedby={errors.understood ? 'understood-error' : undefined}
          />
          <label htmlFor="understood">
            I understand that a lost passphrase cannot be recovered{isSet ? ' and what changing it does' : ''}.
          </label>
          {errors.understood && (
            <p className="error" id="understood-error" role="alert">
              {errors.understood}
            </p>
          )}
        </div>
        {progress !== null && <Progress value={progress} label="Computing the verifier" />}
        {outcome && <Alert kind={outcome.kind}>{outcome.text}</Alert>}
        <button className="primary" disabled={progress !== null || !account.data}>
          {isSet ? 'Replace the passphrase' : 'Set the passphrase'}
        </button>
      </form>
    </>
  );
}
