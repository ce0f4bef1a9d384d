// The passphrase verifier (docs/protocol.md §1) off the main thread: scrypt N=131072, r=8, p=1,
// 32 bytes over the account's salt. The passphrase stays in this browser; only the result leaves.
import { scrypt } from '@noble/hashes/scrypt.js';

export interface DeriveRequest {
  passphrase: string;
  saltBase64: string;
}
export type DeriveMessage = { progress: number } | { verifier: string } | { error: string };

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

self.onmessage = (event: MessageEvent<DeriveRequest>) => {
  try {
    let last = 0;
    const key = scrypt(new TextEncoder().encode(event.data.passphrase), fromBase64(event.data.saltBase64), {
      N: 131072,
      r: 8,
      p: 1,
      dkLen: 32,
      maxmem: 256 * 1024 * 1024,
      asyncTick: 50,
      onProgress: (progress: number) => {
        if (progress - last >= 0.02 || progress === 1) {
          last = progress;
          postMessage({ progress } satisfies DeriveMessage);
        }
      },
    });
    postMessage({ verifier: toBase64(key) } satisfies DeriveMessage);
  } catch (err) {
    postMessage({ error: (err as Error).message } satisfies DeriveMessage);
  }
};
