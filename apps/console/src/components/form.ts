import { useState } from 'react';
import { fieldErrors, messageOf } from '../api';

export type Problems = Record<string, string>;

/**
 * The way every form here submits: its own checks first (problems shown next to the fields,
 * nothing sent), then `send`; the Hive's per-field problems (INVALID_PARAMS) land next to the
 * same fields, anything else in `failure` above the button.
 */
export function useFormSubmit() {
  const [errors, setErrors] = useState<Problems>({});
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (problems: Problems, send: () => Promise<void>): Promise<void> => {
    setErrors(problems);
    setFailure('');
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      await send();
    } catch (error) {
      const fields = fieldErrors(error);
      setErrors(fields);
      if (!Object.keys(fields).length) setFailure(messageOf(error));
    } finally {
      setBusy(false);
    }
  };
  return { errors, setErrors, failure, setFailure, busy, submit };
}
