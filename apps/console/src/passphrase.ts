import type { DeriveMessage, DeriveRequest } from './scrypt.worker';

/** Derives the verifier in a Web Worker; `onProgress` gets 0..1. */
export function deriveVerifier(passphrase: string, saltBase64: string, onProgress: (fraction: number) => void): Promise<string> {
  const worker = new Worker(new URL('./scrypt.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<string>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<DeriveMessage>) => {
      const message = event.data;
      if ('progress' in message) return onProgress(message.progress);
      worker.terminate();
      if ('verifier' in message) resolve(message.verifier);
      else reject(new Error(message.error));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || 'The verifier could not be computed.'));
    };
    worker.postMessage({ passphrase, saltBase64 } satisfies DeriveRequest);
  });
}

export const PASSPHRASE_MIN_CHARS = 12;

export interface Strength {
  /** 0 (very weak) .. 4 (strong) */
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
  hint: string;
}

const COMMON = /^(?:password|passphrase|mosaic|qwerty|letmein|admin|welcome|123456|abc123|iloveyou)/i;

/** A rough estimate from length and variety: long passphrases of several words score best. */
export function passphraseStrength(passphrase: string): Strength {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(passphrase)).length;
  const words = passphrase
    .trim()
    .split(/\s+/)
    .filter((w) => w.length >= 3).length;
  const repeated = /(.)\1{3,}/.test(passphrase) || new Set(passphrase).size < passphrase.length / 3;
  let bits = passphrase.length * Math.log2([0, 26, 52, 62, 94][classes] || 1);
  if (words >= 4) bits = Math.max(bits, words * 13);
  if (COMMON.test(passphrase) || repeated) bits /= 3;
  const score = (bits < 40 ? 0 : bits < 60 ? 1 : bits < 80 ? 2 : bits < 100 ? 3 : 4) as Strength['score'];
  const label = ['Very weak', 'Weak', 'Fair', 'Good', 'Strong'][score];
  const hint =
    passphrase.length < PASSPHRASE_MIN_CHARS
      ? `Use at least ${PASSPHRASE_MIN_CHARS} characters.`
      : score < 3
        ? 'Longer is better: four or more unrelated words make a strong passphrase.'
        : 'Good: keep it somewhere safe.';
  return { score, label, hint };
}

/** The passphrase typed in this tab, kept in memory only (never in storage) to fill in device commands. */
let remembered: string | null = null;
export const rememberPassphrase = (passphrase: string | null) => void (remembered = passphrase);
export const rememberedPassphrase = () => remembered;
