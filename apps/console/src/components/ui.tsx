import { useEffect, useId, useRef, useState, type InputHTMLAttributes, type ReactNode } from 'react';

/** A labelled input whose error sits next to it, tied by aria-describedby and aria-invalid. */
export function Field({
  label,
  error,
  hint,
  secret,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string; hint?: ReactNode; secret?: boolean }) {
  const id = useId();
  const [shown, setShown] = useState(false);
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="field-row">
        <input
          id={id}
          {...input}
          type={secret && !shown ? 'password' : (input.type ?? 'text')}
          aria-invalid={error ? true : undefined}
          aria-describedby={described}
        />
        {secret && (
          <button type="button" className="quiet" onClick={() => setShown(!shown)} aria-pressed={shown}>
            {shown ? 'Hide' : 'Show'}
          </button>
        )}
      </div>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function Alert({ children, kind = 'error' }: { children: ReactNode; kind?: 'error' | 'info' | 'warning' | 'success' }) {
  if (children === '' || children === null || children === undefined) return null;
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Progress({ value, label }: { value: number; label: string }) {
  return (
    <div className="progress-wrap">
      <progress max={100} value={Math.round(value)} aria-label={label} />
      <span>
        {label}: {Math.round(value)} %
      </span>
    </div>
  );
}

/** A modal confirmation on the native <dialog>: focus moves in, Escape cancels. */
export function Confirm({
  title,
  children,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
  confirmDisabled,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  confirmDisabled?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e) => (e.preventDefault(), onCancel())}>
      <h2 id={titleId}>{title}</h2>
      {children}
      <div className="actions">
        <button type="button" className="quiet" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={confirmDisabled}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function HealthCircle({ state, reason }: { state: 'green' | 'amber' | 'red'; reason: string }) {
  const word = { green: 'Healthy', amber: 'Needs attention', red: 'Offline' }[state];
  return (
    <span className="health" data-health={state} title={reason}>
      <span className={`circle circle-${state}`} aria-hidden="true" />
      <span className="health-word">{word}</span>
      <span className="visually-hidden">: {reason}</span>
    </span>
  );
}

const UNITS: Array<[number, Intl.RelativeTimeFormatUnit]> = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [365, 'day'],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  // Clocks of two machines differ by a little: a time just ahead of ours is "now", not "in 1 second".
  let value = Math.min(0, (Date.parse(iso) - now) / 1000);
  for (const [size, unit] of UNITS) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return relative.format(Math.round(value), 'year');
}

/** Re-renders every `ms` so relative times and staleness move on by themselves (a clock, not polling). */
export function useNow(ms = 10_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function Time({ iso, now }: { iso: string | null | undefined; now?: number }) {
  return iso ? (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {ago(iso, now)}
    </time>
  ) : (
    <span>never</span>
  );
}

/** Loads with `load`, re-loads on `reload()`; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (error) => live && setState((s) => ({ data: s.data, error })),
    );
    return () => void (live = false);
  }, [...deps, tick]);
  return { data: state.data, error: state.error, reload: () => setTick((t) => t + 1) };
}
