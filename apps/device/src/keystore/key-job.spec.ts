import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { BACKGROUND_NICE, KEY_JOB_DEADLINE_MS, KEY_JOB_SOURCE, KeyJobError, readAnswer, runKeyJob, sendToChild } from './key-job';

const PASSPHRASE = 'correct horse battery staple';

/** A child that answers with what it can see of its own start: argv, environment, and the request it got. */
const ECHO = `process.once('message', (request) => process.send({ argv: process.argv, execArgv: process.execArgv, env: process.env, request }, () => process.disconnect()));`;
/** A child that never answers. */
const SILENT = `process.on('message', () => {}); setInterval(() => {}, 1000);`;

async function failure(promise: Promise<unknown>): Promise<KeyJobError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyJobError);
  return err as KeyJobError;
}

describe('key jobs: OpenPGP work in a child process', () => {
  describe('what the child is given', () => {
    const saved = process.env.DEVICE_PASSPHRASE;
    beforeAll(() => (process.env.DEVICE_PASSPHRASE = PASSPHRASE));
    afterAll(() => (saved === undefined ? delete process.env.DEVICE_PASSPHRASE : (process.env.DEVICE_PASSPHRASE = saved)));

    it('gets the passphrase over IPC only: not in its argv, not in its environment, no Node flags of the parent', async () => {
      const request = { op: 'open', encryptedPrivateKey: 'k', publicKey: 'p', passphrase: PASSPHRASE };
      const seen = (await sendToChild(request, { source: ECHO })) as { argv: string[]; execArgv: string[]; env: Record<string, string>; request: unknown };
      // The channel works: the child did get the secret…
      expect(seen.request).toEqual(request);
      // …and nowhere else, though the parent's own environment holds it.
      expect(JSON.stringify(seen.argv)).not.toContain(PASSPHRASE);
      expect(JSON.stringify(seen.env)).not.toContain(PASSPHRASE);
      expect(Object.keys(seen.env).filter((k) => k !== 'NODE_CHANNEL_FD' && k !== 'NODE_CHANNEL_SERIALIZATION_MODE')).toEqual(['PATH']);
      expect(seen.argv).toEqual([process.execPath, expect.stringMatching(/key-job\.(ts|js)$/)]);
      expect(seen.execArgv).toEqual(['-e', expect.any(String)]);
    });
  });

  describe('priority', () => {
    /** A child that answers with its own niceness, once asked. */
    const NICENESS = `process.once('message', () => process.send({ nice: require('node:os').getPriority() }, () => process.disconnect()));`;

    it("runs a background job (keys opened ahead) at BACKGROUND_NICE, any other at the Device's own", async () => {
      const own = getPriority();
      expect(await sendToChild({}, { source: NICENESS, background: true })).toEqual({ nice: Math.max(own, BACKGROUND_NICE) });
      expect(await sendToChild({}, { source: NICENESS })).toEqual({ nice: own });
    });
  });

  describe('the deadline', () => {
    it('kills a child that does not answer in time', async () => {
      let child: ChildProcess | undefined;
      const err = await failure(sendToChild({ op: 'open' }, { source: SILENT, deadlineMs: 300, onSpawn: (c) => (child = c) }));
      expect(err.code).toBe('DEADLINE');
      expect(err.message).toMatch(/did not answer within 300 ms; killed/);
      const [code, signal] = child!.exitCode !== null || child!.signalCode !== null ? [child!.exitCode, child!.signalCode] : await once(child!, 'exit');
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    });

    it('is two minutes by default', () => {
      expect(KEY_JOB_DEADLINE_MS).toBe(120_000);
    });

    it('a child that exits without answering fails the job at once, with its last error line', async () => {
      const err = await failure(sendToChild({}, { source: `process.stderr.write('boom\\n'); process.exit(3)` }));
      expect(err.code).toBe('FAILED');
      expect(err.message).toMatch(/exited \(3\) without an answer: boom/);
    });
  });

  describe('the child checks its request', () => {
    it.each([
      ['not an object', 'nonsense'],
      ['an unknown op', { op: 'delete', passphrase: PASSPHRASE }],
      ['no passphrase', { op: 'open', encryptedPrivateKey: 'k', publicKey: 'p' }],
      ['an empty passphrase', { op: 'open', encryptedPrivateKey: 'k', publicKey: 'p', passphrase: '' }],
      ['Argon2 memory out of range', { op: 'create', label: 'x', passphrase: PASSPHRASE, argon2: { passes: 1, parallelism: 1, memoryExponent: 40 } }],
      ['Argon2 passes not whole', { op: 'create', label: 'x', passphrase: PASSPHRASE, argon2: { passes: 1.5, parallelism: 1, memoryExponent: 10 } }],
    ])('answers BAD_REQUEST to %s', async (_what, request) => {
      expect(await sendToChild(request)).toEqual({ ok: false, code: 'BAD_REQUEST', message: 'malformed key job request' });
    });

    it("opens a key with Node's own Argon2, one derivation per key packet, giving what openpgp's own gives", async () => {
      const made = await runKeyJob({ op: 'create', label: 'native', passphrase: PASSPHRASE, argon2: { passes: 1, parallelism: 2, memoryExponent: 10 } });
      // The same program, with node:crypto's argon2 counted and the count added to the answer.
      const counted = `{
        const crypto = require('node:crypto'); const native = crypto.argon2; let calls = 0;
        crypto.argon2 = (...args) => { calls++; return native(...args); };
        const send = process.send.bind(process); process.send = (answer, done) => send({ ...answer, calls }, done);
      }\n${KEY_JOB_SOURCE}`;
      const open = (passphrase: string) => sendToChild({ op: 'open', encryptedPrivateKey: made.encryptedPrivateKey, publicKey: made.publicKey, passphrase }, { source: counted });
      // The primary key and its encryption subkey each have an Argon2 S2K of their own.
      expect(await open(PASSPHRASE)).toMatchObject({ ok: true, privateKey: made.privateKey, fingerprint: made.fingerprint, calls: 2 });
      expect(await open('not the passphrase')).toMatchObject({ ok: false, code: 'WRONG_PASSPHRASE' });
    });

    it('answers a well-formed open of a non-key with FAILED, never echoing the passphrase', async () => {
      const answer = await sendToChild({ op: 'open', encryptedPrivateKey: 'not a key', publicKey: 'nor this', passphrase: PASSPHRASE });
      expect(answer).toMatchObject({ ok: false, code: 'FAILED' });
      expect(JSON.stringify(answer)).not.toContain(PASSPHRASE);
    });
  });

  describe('the parent checks the answer', () => {
    const created = { ok: true, fingerprint: 'f', publicKey: 'p', privateKey: 'k', encryptedPrivateKey: 'e' };

    it('takes exactly the fields its op promises', () => {
      expect(readAnswer('create', { ...created, extra: 'dropped' })).toEqual({ fingerprint: 'f', publicKey: 'p', privateKey: 'k', encryptedPrivateKey: 'e' });
      expect(readAnswer('open', { ok: true, privateKey: 'k', fingerprint: 'f', publicFingerprint: 'g' })).toEqual({
        privateKey: 'k',
        fingerprint: 'f',
        publicFingerprint: 'g',
      });
    });

    it.each([
      ['null', null],
      ['a string', 'ok'],
      ['no ok', { fingerprint: 'f' }],
      ['a missing field', { ...created, encryptedPrivateKey: undefined }],
      ['an empty field', { ...created, publicKey: '' }],
      ['a field of the wrong type', { ...created, fingerprint: 42 }],
    ])('refuses %s as a PROTOCOL error', (_what, answer) => {
      expect(() => readAnswer('create', answer)).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
    });

    it('keeps a known failure code, and turns an unknown one into PROTOCOL', () => {
      expect(() => readAnswer('open', { ok: false, code: 'WRONG_PASSPHRASE', message: 'no' })).toThrow(expect.objectContaining({ code: 'WRONG_PASSPHRASE' }));
      expect(() => readAnswer('open', { ok: false, code: 'DEADLINE', message: 'forged' })).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
    });

    it('a child that answers nonsense fails the job', async () => {
      const source = `process.once('message', () => process.send({ ok: true, fingerprint: 7 }, () => process.disconnect()));`;
      expect((await failure(runKeyJob({ op: 'create', label: 'x', passphrase: PASSPHRASE, argon2: { passes: 1, parallelism: 1, memoryExponent: 10 } }, { source }))).code).toBe('PROTOCOL');
    });
  });
});
