import { ChildProcess, spawn } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';

/**
 * A key job: one OpenPGP/Argon2 task in a short-lived child Node process that exits when done.
 * OpenPGP (~10 MB of code) and Argon2's WASM memory (64 MiB, kept for good by whoever ran it)
 * then never live in the Device's long-running process (docs/architecture.md "Key jobs").
 *
 * The request, secrets included, goes over the IPC channel only: the child's argv holds the
 * program and the path openpgp is resolved from, its environment is empty but for PATH, and
 * nothing is written to disk. The child answers one message and exits; one that does not answer
 * within the deadline is killed.
 */

/** Argon2 S2K parameters; RFC 9106's second recommendation is t=3, p=4, m=64 MiB (2^16 KiB). */
export interface Argon2Params {
  passes: number;
  parallelism: number;
  memoryExponent: number;
}

export type KeyJobRequest =
  | { op: 'create'; label: string; passphrase: string; argon2: Argon2Params }
  | { op: 'open'; encryptedPrivateKey: string; publicKey: string; passphrase: string };

export interface CreatedKey {
  fingerprint: string;
  publicKey: string;
  /** Armored, unprotected: lives in memory only. */
  privateKey: string;
  /** Armored, protected with the passphrase (Argon2 S2K, AEAD). */
  encryptedPrivateKey: string;
}

export interface OpenedKey {
  /** Armored, unprotected. */
  privateKey: string;
  /** The fingerprint of the opened private key and of the public key given with it. */
  fingerprint: string;
  publicFingerprint: string;
}

/** Why a job failed: the passphrase does not open the key, or anything else. */
export class KeyJobError extends Error {
  constructor(
    readonly code: 'WRONG_PASSPHRASE' | 'BAD_REQUEST' | 'FAILED' | 'DEADLINE' | 'PROTOCOL',
    message: string,
  ) {
    super(message);
  }
}

/** A key job on the production Argon2 parameters takes ~1 s; this is the backstop for a stuck one. */
export const KEY_JOB_DEADLINE_MS = 120_000;

/**
 * The child's program. A string run with `node -e`, so the bundler leaves its `require`s alone
 * and no extra file ships. It checks the request itself (it trusts nothing it is sent).
 */
export const KEY_JOB_SOURCE = `
'use strict';
const crypto = require('node:crypto');
const openpgp = require('node:module').createRequire(process.argv[1])('openpgp');
const str = (v) => typeof v === 'string' && v.length > 0 && v.length <= 1 << 20;
const int = (v, min, max) => Number.isInteger(v) && v >= min && v <= max;
/** §3's keys use 2^16 KiB (64 MiB); a key to open may not ask for more. */
const OPEN_MAX_MEMORY_EXPONENT = 16;
function check(r) {
  if (!r || typeof r !== 'object' || !str(r.passphrase)) return false;
  if (r.op === 'create') {
    const a = r.argon2;
    return str(r.label) && !!a && int(a.passes, 1, 16) && int(a.parallelism, 1, 16) && int(a.memoryExponent, 3, 21);
  }
  return r.op === 'open' && str(r.encryptedPrivateKey) && str(r.publicKey);
}
async function create(r) {
  const made = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: r.label }], format: 'object' });
  const config = { aeadProtect: true, s2kType: openpgp.enums.s2k.argon2, s2kArgon2Params: r.argon2 };
  const encrypted = await openpgp.encryptKey({ privateKey: made.privateKey, passphrase: r.passphrase, config });
  return {
    ok: true,
    fingerprint: made.publicKey.getFingerprint(),
    publicKey: made.publicKey.armor(),
    privateKey: made.privateKey.armor(),
    encryptedPrivateKey: encrypted.armor(),
  };
}
// Node's own Argon2 (node >= 24.7, native, on libuv's threads) derives the same bytes as openpgp's
// WASM one (Argon2id, version 0x13) several times faster, and a key's packets side by side.
const nativeArgon2 = typeof crypto.argon2 === 'function' ? crypto.argon2 : undefined;
function fastS2K(packet) {
  const s2k = packet && packet.s2k;
  if (!nativeArgon2 || !s2k || s2k.type !== 'argon2') return;
  const wasm = s2k.produceKey.bind(s2k);
  s2k.produceKey = (passphrase, keySize, config) => {
    // Beyond openpgp's memory limit: its own path refuses it.
    if (s2k.encodedM > config.maxArgon2MemoryExponent) return wasm(passphrase, keySize, config);
    const options = { message: Buffer.from(passphrase, 'utf8'), nonce: s2k.salt, parallelism: s2k.p, tagLength: keySize, memory: 2 ** s2k.encodedM, passes: s2k.t };
    return new Promise((resolve, reject) => nativeArgon2('argon2id', options, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key)))));
  };
}
async function open(r) {
  let privateKey, publicKey;
  try {
    privateKey = await openpgp.readPrivateKey({ armoredKey: r.encryptedPrivateKey });
    publicKey = await openpgp.readKey({ armoredKey: r.publicKey });
  } catch (err) {
    return { ok: false, code: 'FAILED', message: 'not an OpenPGP key: ' + err.message };
  }
  // The Hive chose these keys' Argon2 parameters: past §3's (64 MiB) a key could make this job take
  // gigabytes or minutes; it is refused before any derivation runs.
  for (const key of [privateKey, ...privateKey.subkeys]) {
    const s2k = key.keyPacket && key.keyPacket.s2k;
    if (s2k && s2k.type === 'argon2' && !(s2k.encodedM <= OPEN_MAX_MEMORY_EXPONENT && s2k.t <= 16 && s2k.p <= 16)) {
      return { ok: false, code: 'FAILED', message: 'the key asks for Argon2 beyond 64 MiB, 16 passes and 16 lanes (m=2^' + s2k.encodedM + ' KiB, t=' + s2k.t + ', p=' + s2k.p + ')' };
    }
    fastS2K(key.keyPacket);
  }
  let plain;
  try {
    plain = await openpgp.decryptKey({ privateKey, passphrase: r.passphrase });
  } catch (err) {
    return { ok: false, code: 'WRONG_PASSPHRASE', message: err.message };
  }
  return { ok: true, privateKey: plain.armor(), fingerprint: plain.getFingerprint(), publicFingerprint: publicKey.getFingerprint() };
}
process.once('message', (r) => {
  const work = !check(r) ? Promise.resolve({ ok: false, code: 'BAD_REQUEST', message: 'malformed key job request' })
    : r.op === 'create' ? create(r) : open(r);
  work
    .catch((err) => ({ ok: false, code: 'FAILED', message: String((err && err.message) || err) }))
    .then((answer) => process.send(answer, () => process.disconnect()));
});
`;

export interface KeyJobOptions {
  deadlineMs?: number;
  /** The child's program; tests replace it to play a child that misbehaves. */
  source?: string;
  /** Told of the child once it is spawned (tests watch it exit). */
  onSpawn?: (child: ChildProcess) => void;
  /** Work nothing waits for (keys opened ahead): the child runs at BACKGROUND_NICE, behind the apps and any command. */
  background?: boolean;
}

/** The niceness of a background key job (never less than the Device's own): the scheduler gives it what the machine has left. */
export const BACKGROUND_NICE = 10;

const FIELDS = {
  create: ['fingerprint', 'publicKey', 'privateKey', 'encryptedPrivateKey'],
  open: ['privateKey', 'fingerprint', 'publicFingerprint'],
} as const;
const FAILURE_CODES = new Set(['WRONG_PASSPHRASE', 'BAD_REQUEST', 'FAILED']);

/** Checks what a child answered: exactly the fields its op promises, or a failure with a known code. */
export function readAnswer(op: KeyJobRequest['op'], answer: unknown): Record<string, string> {
  if (!answer || typeof answer !== 'object') throw new KeyJobError('PROTOCOL', 'the key job answered something that is not an object');
  const a = answer as Record<string, unknown>;
  if (a.ok === false) {
    const code = typeof a.code === 'string' && FAILURE_CODES.has(a.code) ? (a.code as KeyJobError['code']) : 'PROTOCOL';
    throw new KeyJobError(code, typeof a.message === 'string' ? a.message.slice(0, 500) : 'no message');
  }
  if (a.ok !== true) throw new KeyJobError('PROTOCOL', 'the key job answered without "ok"');
  const out: Record<string, string> = {};
  for (const field of FIELDS[op]) {
    const value = a[field];
    if (typeof value !== 'string' || value.length === 0) throw new KeyJobError('PROTOCOL', `the key job's answer lacks "${field}"`);
    out[field] = value;
  }
  return out;
}

/** Runs one key job in a child process and returns its checked answer. */
export function runKeyJob(request: { op: 'create' } & KeyJobRequest, options?: KeyJobOptions): Promise<CreatedKey>;
export function runKeyJob(request: { op: 'open' } & KeyJobRequest, options?: KeyJobOptions): Promise<OpenedKey>;
export function runKeyJob(request: KeyJobRequest, options: KeyJobOptions = {}): Promise<unknown> {
  return sendToChild(request, options).then((answer) => readAnswer(request.op, answer));
}

/** Spawns the child, sends `message` over IPC and resolves with its one answer. Exported for tests. */
export function sendToChild(
  message: unknown,
  { deadlineMs = KEY_JOB_DEADLINE_MS, source = KEY_JOB_SOURCE, onSpawn, background = false }: KeyJobOptions = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // No shell, no inherited environment (DEVICE_PASSPHRASE lives there) and no inherited Node
    // flags (the Device's own would slow Argon2's WASM): argv is the program and a module path.
    const child = spawn(process.execPath, ['-e', source, __filename], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH ?? '' },
    });
    if (background && child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.max(BACKGROUND_NICE, getPriority()));
      } catch {
        // Not allowed here (a container without CAP_SYS_NICE may still lower a priority): it runs as any job.
      }
    }
    onSpawn?.(child);
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined, answer?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(answer);
    };
    const timer = setTimeout(() => finish(new KeyJobError('DEADLINE', `the key job did not answer within ${deadlineMs} ms; killed`)), deadlineMs);
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('message', (answer) => finish(undefined, answer));
    child.once('error', (err) => finish(new KeyJobError('FAILED', `the key job could not start: ${err.message}`)));
    child.once('exit', (code, signal) =>
      finish(new KeyJobError('FAILED', `the key job exited (${signal ?? code}) without an answer${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`)),
    );
    child.send(message as object, (err) => err && finish(new KeyJobError('FAILED', `the key job could not be sent its request: ${err.message}`)));
  });
}
