import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * restic's key files (restic doc/design.rst, "Keys, Encryption and MAC"): the repository's master
 * key, as JSON, encrypted with a key derived from the password by scrypt. A key file is JSON with
 * `kdf: "scrypt"`, its `N`, `r`, `p`, a 64-byte `salt` and `data` (base64): a 16-byte IV, the
 * master key JSON encrypted with AES-256-CTR, and a 16-byte Poly1305-AES MAC of the ciphertext.
 * scrypt gives 64 bytes: the AES-256 key, then the MAC key `k` (AES-128, which encrypts the IV into
 * Poly1305's `s`) and `r`. The file's name, its id, is the SHA-256 of its bytes.
 */

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * The plugin's keys: scrypt at 4 MiB and a few milliseconds instead of restic's calibrated ~0.5 s
 * and 60 MiB. The replica's password is 256 random bits (an HKDF of the volume's private key),
 * which no guessing reaches: scrypt's hardening adds nothing to it (docs/architecture.md).
 */
export const CHEAP_SCRYPT: ScryptParams = { N: 2 ** 12, r: 8, p: 1 };

/** A key the plugin opens to read the master key: restic calibrates to 60 MiB; more than this is refused. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
/** And at most this much work (N·r·p; restic's calibration on a fast machine gives about 2^21). */
const MAX_SCRYPT_WORK = 2 ** 25;
const SALT_BYTES = 64;
const IV_BYTES = 16;
const MAC_BYTES = 16;
/** A key file is about 450 bytes; a larger one is not read. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;
const KEY_ID = /^[0-9a-f]{64}$/;

/** A key file that is not one restic could have written. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** A key file read and checked: its id, parameters, salt and encrypted master key. */
export interface ResticKey {
  id: string;
  params: ScryptParams;
  salt: Buffer;
  /** IV ‖ ciphertext ‖ MAC. */
  data: Buffer;
}

/** The id restic gives a key file: the SHA-256 of its bytes, in hex. */
export function keyFileId(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isKeyId(name: string): boolean {
  return KEY_ID.test(name);
}

/** Parses and checks a key file stored under `id`; a file whose bytes do not hash to its name is refused, as restic does. */
export function parseKeyFile(id: string, bytes: Buffer): ResticKey {
  if (!isKeyId(id)) throw new KeyFileError(`${JSON.stringify(id.slice(0, 80))} is not a key id`);
  if (bytes.length > MAX_KEY_FILE_BYTES) throw new KeyFileError(`key ${id.slice(0, 8)} is ${bytes.length} bytes, more than a key file`);
  if (keyFileId(bytes) !== id) throw new KeyFileError(`key ${id.slice(0, 8)} does not hash to its name`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new KeyFileError(`key ${id.slice(0, 8)} is not JSON`);
  }
  const file = json as Record<string, unknown>;
  if (typeof json !== 'object' || json === null || file.kdf !== 'scrypt') throw new KeyFileError(`key ${id.slice(0, 8)} does not use scrypt`);
  const params = { N: file.N, r: file.r, p: file.p };
  if (!validParams(params)) throw new KeyFileError(`key ${id.slice(0, 8)} has scrypt parameters the plugin does not open (N ${String(file.N)}, r ${String(file.r)}, p ${String(file.p)})`);
  const salt = base64Field(file.salt);
  const data = base64Field(file.data);
  if (salt?.length !== SALT_BYTES) throw new KeyFileError(`key ${id.slice(0, 8)} has no ${SALT_BYTES}-byte salt`);
  if (!data || data.length < IV_BYTES + MAC_BYTES + 2) throw new KeyFileError(`key ${id.slice(0, 8)} holds no encrypted master key`);
  return { id, params, salt, data };
}

function validParams(params: { N: unknown; r: unknown; p: unknown }): params is ScryptParams {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p)) return false;
  const [n, rr, pp] = [N as number, r as number, p as number];
  // scrypt's N is a power of two above 1.
  if (n < 2 || (n & (n - 1)) !== 0 || rr < 1 || pp < 1) return false;
  return 128 * n * rr <= MAX_SCRYPT_MEMORY && n * rr * pp <= MAX_SCRYPT_WORK;
}

function base64Field(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  return Buffer.from(value, 'base64');
}

/** Whether a key costs no more to open than the plugin's own (CHEAP_SCRYPT). */
export function isCheap(key: ResticKey): boolean {
  const { N, r, p } = key.params;
  return N * r * p <= CHEAP_SCRYPT.N * CHEAP_SCRYPT.r * CHEAP_SCRYPT.p && 128 * N * r <= 128 * CHEAP_SCRYPT.N * CHEAP_SCRYPT.r;
}

/** restic's crypto key (a key file's derived one, or the repository's master key): AES-256 and Poly1305-AES. */
export interface CryptoKey {
  encryption: Buffer;
  macK: Buffer;
  macR: Buffer;
}
type UserKey = CryptoKey;

function deriveUserKey(password: string, salt: Buffer, params: ScryptParams): Promise<UserKey> {
  const { N, r, p } = params;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 64, { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 }, (err, derived) => {
      if (err) reject(err);
      else resolve({ encryption: derived.subarray(0, 32), macK: derived.subarray(32, 48), macR: derived.subarray(48, 64) });
    });
  });
}

/** Poly1305-AES (restic's MAC): Poly1305 keyed with r and AES-128_k(IV). */
function mac(user: UserKey, iv: Buffer, ciphertext: Buffer): Buffer {
  const aes = createCipheriv('aes-128-ecb', user.macK, null);
  aes.setAutoPadding(false);
  const s = aes.update(iv);
  return Buffer.from(poly1305(ciphertext, Buffer.concat([user.macR, s])));
}

function aes256ctr(user: UserKey, iv: Buffer, input: Buffer, encrypt: boolean): Buffer {
  const cipher = encrypt ? createCipheriv('aes-256-ctr', user.encryption, iv) : createDecipheriv('aes-256-ctr', user.encryption, iv);
  return Buffer.concat([cipher.update(input), cipher.final()]);
}

/**
 * The master key's JSON, as the key holds it, when `password` opens the key; null when it does
 * not (the MAC does not match: another password's key). Throws when what it holds is no master key.
 */
export async function openKey(key: ResticKey, password: string): Promise<Buffer | null> {
  const master = openSealed(await deriveUserKey(password, key.salt, key.params), key.data);
  if (master) checkMasterKey(master, key.id);
  return master;
}

/**
 * What restic sealed with `key` (IV ‖ AES-256-CTR ciphertext ‖ Poly1305-AES MAC, the form of a key
 * file's master key and of every repository file): the plaintext, or null when the MAC does not match.
 */
export function openSealed(key: CryptoKey, sealed: Buffer): Buffer | null {
  if (sealed.length < IV_BYTES + MAC_BYTES) return null;
  const iv = sealed.subarray(0, IV_BYTES);
  const ciphertext = sealed.subarray(IV_BYTES, sealed.length - MAC_BYTES);
  const tag = sealed.subarray(sealed.length - MAC_BYTES);
  if (!timingSafeEqual(mac(key, iv, ciphertext), tag)) return null;
  return aes256ctr(key, iv, ciphertext, false);
}

/** `plaintext` sealed with `key` as restic seals (a fresh IV): what openSealed opens. */
export function seal(key: CryptoKey, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const ciphertext = aes256ctr(key, iv, plaintext, true);
  return Buffer.concat([iv, ciphertext, mac(key, iv, ciphertext)]);
}

/** The repository's master key from the JSON a key file holds (checked by openKey). */
export function masterKeyOf(master: Buffer): CryptoKey {
  const json = JSON.parse(master.toString('utf8')) as { mac: { k: string; r: string }; encrypt: string };
  return { encryption: Buffer.from(json.encrypt, 'base64'), macK: Buffer.from(json.mac.k, 'base64'), macR: Buffer.from(json.mac.r, 'base64') };
}

/** restic's master key JSON: `{"mac": {"k": 16 bytes, "r": 16 bytes}, "encrypt": 32 bytes}`, base64, none all zero. */
function checkMasterKey(master: Buffer, id: string): void {
  let json: { mac?: { k?: unknown; r?: unknown }; encrypt?: unknown } | null;
  try {
    json = JSON.parse(master.toString('utf8')) as typeof json;
  } catch {
    json = null;
  }
  const sized = (value: unknown, bytes: number) => {
    const buffer = base64Field(value);
    return buffer?.length === bytes && buffer.some((b) => b !== 0);
  };
  if (!json || !sized(json.mac?.k, 16) || !sized(json.mac?.r, 16) || !sized(json.encrypt, 32)) {
    throw new KeyFileError(`key ${id.slice(0, 8)} opens but holds no master key`);
  }
}

/**
 * A new key file for the same master key, opened by `password` with `params`: its bytes and id.
 * `username` and `hostname` are what `restic key list` shows.
 */
export async function sealKey(
  master: Buffer,
  password: string,
  meta: { created: Date; username: string; hostname: string },
  params: ScryptParams = CHEAP_SCRYPT,
): Promise<{ id: string; bytes: Buffer }> {
  checkMasterKey(master, 'new');
  const salt = randomBytes(SALT_BYTES);
  const user = await deriveUserKey(password, salt, params);
  const data = seal(user, master);
  const file = {
    created: meta.created.toISOString(),
    username: meta.username,
    hostname: meta.hostname,
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    data: data.toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file), 'utf8');
  return { id: keyFileId(bytes), bytes };
}
