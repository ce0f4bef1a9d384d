import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, call } from '../api';
import { type Problems, useFormSubmit } from '../components/form';
import { Alert, Field } from '../components/ui';

type Done = (username: string, csrfToken: string | null) => void;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const PASSWORD_MIN = 12;

/** First run: the operator proves they run this Hive (its admin token) and creates the account. */
export function SetupPage({ onDone }: { onDone: Done }) {
  const [form, setForm] = useState({ adminToken: '', username: '', password: '', confirm: '' });
  const { errors, failure, busy, submit: send } = useFormSubmit();
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (!form.adminToken) found.adminToken = 'Enter the HIVE_ADMIN_TOKEN this Hive was started with.';
    if (!USERNAME.test(form.username)) found.username = 'Use 1–64 letters, digits or . _ @ -';
    if (form.password.length < PASSWORD_MIN) found.password = `Use at least ${PASSWORD_MIN} characters.`;
    if (form.confirm !== form.password) found.confirm = 'The two passwords differ.';
    await send(found, async () => {
      const { adminToken, username, password } = form;
      const status = await call(api.POST('/api/session/setup', { body: { adminToken, username, password } }));
      onDone(status.username ?? username, status.csrfToken);
    });
  };

  return (
    <main className="narrow" id="main">
      <h1>Welcome to Mosaic</h1>
      <p>Create the operator account of this Hive. You will sign in with it from now on.</p>
      <form onSubmit={submit} noValidate>
        <Field
          label="Admin token"
          secret
          autoComplete="off"
          value={form.adminToken}
          onChange={set('adminToken')}
          error={errors.adminToken}
          hint="The HIVE_ADMIN_TOKEN the Hive runs with: it proves you run this Hive."
        />
        <Field label="User name" autoComplete="username" value={form.username} onChange={set('username')} error={errors.username} />
        <Field
          label="Password"
          secret
          autoComplete="new-password"
          value={form.password}
          onChange={set('password')}
          error={errors.password}
          hint={`At least ${PASSWORD_MIN} characters.`}
        />
        <Field
          label="Password again"
          secret
          autoComplete="new-password"
          value={form.confirm}
          onChange={set('confirm')}
          error={errors.confirm}
        />
        {failure && <Alert>{failure}</Alert>}
        <button className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
    </main>
  );
}

/** Sign-in; over an open page (in a dialog) when the session expired, so the page keeps what was typed. */
export function LoginPage({ onDone, expired }: { onDone: Done; expired?: boolean }) {
  const [form, setForm] = useState({ username: '', password: '' });
  const { errors, failure, busy, submit: send } = useFormSubmit();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (expired && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [expired]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (!form.username) found.username = 'Enter your user name.';
    if (!form.password) found.password = 'Enter your password.';
    await send(found, async () => {
      const status = await call(api.POST('/api/session', { body: form }));
      onDone(status.username ?? form.username, status.csrfToken);
    });
  };

  const body = (
    <form onSubmit={submit} noValidate>
      <Field
        label="User name"
        autoComplete="username"
        value={form.username}
        onChange={(e) => setForm({ ...form, username: e.target.value })}
        error={errors.username}
      />
      <Field
        label="Password"
        secret
        autoComplete="current-password"
        value={form.password}
        onChange={(e) => setForm({ ...form, password: e.target.value })}
        error={errors.password}
      />
      {failure && <Alert>{failure}</Alert>}
      <button className="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
  if (expired) {
    return (
      <dialog ref={dialog} aria-labelledby="expired-title" onCancel={(e) => e.preventDefault()}>
        <h2 id="expired-title">Your session has expired</h2>
        <p>Sign in again to go on. What you typed on the page is kept; nothing was sent.</p>
        {body}
      </dialog>
    );
  }
  return (
    <main className="narrow" id="main">
      <h1>Sign in to Mosaic</h1>
      {body}
    </main>
  );
}
