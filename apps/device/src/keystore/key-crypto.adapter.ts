import { Injectable } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import * as openpgp from 'openpgp';

/** Argon2 S2K parameters; RFC 9106's second recommendation is t=3, p=4, m=64 MiB (2^16 KiB). */
export interface Argon2Params {
  passes: number;
  parallelism: number;
  memoryExponent: number;
}
export const RFC9106_SECOND_RECOMMENDATION: Argon2Params = { passes: 3, parallelism: 4, memoryExponent: 16 };

export interface GeneratedKey {
  fingerprint: string;
  publicKey: string;
  /** Armored, unprotected: lives in memory only. */
  privateKey: string;
}

export class WrongPassphraseError extends Error {}

/**
 * Runs in a worker thread that exits afterwards: Argon2's WASM keeps ~85 MB for good in the
 * thread that ran it (docs/architecture.md). A string, so the bundler leaves its `require`s alone.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const openpgp = require('node:module').createRequire(workerData.base)('openpgp');
(async () => {
  const { op, armoredKey, passphrase, argon2 } = workerData;
  const privateKey = await openpgp.readPrivateKey({ armoredKey });
  if (op === 'protect') {
    const config = { aeadProtect: true, s2kType: openpgp.enums.s2k.argon2, s2kArgon2Params: argon2 };
    const protectedKey = await openpgp.encryptKey({ privateKey, passphrase, config });
    return { armored: protectedKey.armor() };
  }
  try {
    const plain = await openpgp.decryptKey({ privateKey, passphrase });
    return { armored: plain.armor() };
  } catch (err) {
    return { wrongPassphrase: true, message: err.message };
  }
})().then((r) => parentPort.postMessage(r), (err) => parentPort.postMessage({ error: String(err && err.message || err) }));
`;

interface WorkerAnswer {
  armored?: string;
  wrongPassphrase?: boolean;
  error?: string;
  message?: string;
}

/** OpenPGP key work: generation here, passphrase protection in a short-lived worker thread. */
@Injectable()
export class KeyCryptoAdapter {
  /** An OpenPGP v4 key: Ed25519 primary, X25519 subkey. */
  async generate(label: string): Promise<GeneratedKey> {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: label }],
      format: 'armored',
    });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    return { fingerprint: key.getFingerprint(), publicKey, privateKey };
  }

  async fingerprintOf(armoredKey: string): Promise<string> {
    return (await openpgp.readKey({ armoredKey })).getFingerprint();
  }

  async protect(privateKey: string, passphrase: string, argon2: Argon2Params): Promise<string> {
    const answer = await this.inWorker({ op: 'protect', armoredKey: privateKey, passphrase, argon2 });
    if (!answer.armored) throw new Error(`key protection failed: ${answer.error ?? 'no answer'}`);
    return answer.armored;
  }

  /** Throws WrongPassphraseError when the passphrase does not open the key. */
  async unprotect(encryptedPrivateKey: string, passphrase: string): Promise<string> {
    const answer = await this.inWorker({ op: 'unprotect', armoredKey: encryptedPrivateKey, passphrase });
    if (answer.wrongPassphrase) throw new WrongPassphraseError(answer.message ?? 'wrong passphrase');
    if (!answer.armored) throw new Error(`key decryption failed: ${answer.error ?? 'no answer'}`);
    return answer.armored;
  }

  private inWorker(data: Record<string, unknown>): Promise<WorkerAnswer> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...data, base: __filename } });
      worker.once('message', (answer: WorkerAnswer) => {
        resolve(answer);
        void worker.terminate();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => code !== 0 && reject(new Error(`key worker exited with ${code}`)));
    });
  }
}
